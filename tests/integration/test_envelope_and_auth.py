"""Spec §0 over real HTTP: the envelope, auth, operator switches, CORS and OpenAPI."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reelserve.engines.base import Capability
from tests.support import RunningServer, accepted, envelope_of, run_server

GENERATE = "/api/v1/runway/generate"
EXTEND = "/api/v1/runway/extend"
DETAIL = "/api/v1/runway/record-detail"
NO_ACCESS = "You do not have access permissions"
TEXT_BODY = {"prompt": "A red fox", "duration": 5, "quality": "720p", "aspectRatio": "16:9"}
IMAGE_BODY = {
    "prompt": "A red fox",
    "duration": 5,
    "quality": "720p",
    "imageUrl": "https://example.com/fox.png",
}
REELSERVE_CLI = Path(sys.executable).with_name("reelserve")


@pytest.fixture(scope="module")
def quiet(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[RunningServer]:
    """Worker-less, default settings; `carol` is the key the revocation test revokes."""
    with run_server(
        tmp_path_factory.mktemp("envelope"),
        ("alice", "bob", "carol"),
        run_worker=False,
        backend=backend,
    ) as running:
        yield running


@pytest.fixture(scope="module")
def anonymous(quiet: RunningServer) -> httpx.Client:
    return quiet.client(None)


@pytest.fixture(scope="module")
def queued_task(quiet: RunningServer) -> str:
    return accepted(quiet.client("alice").post(GENERATE, json=TEXT_BODY))


def answered(response: httpx.Response, code: int, msg: str | None = None) -> dict[str, Any]:
    body = envelope_of(response)
    assert body["code"] == code, body
    if msg is not None:
        assert body["msg"] == msg, body
    return body


def client_with(server: RunningServer, headers: dict[str, Any]) -> httpx.Client:
    """A client with exactly these headers (closed with the server)."""
    client = httpx.Client(base_url=server.base_url, headers=headers, timeout=60)
    server.clients.append(client)
    return client


def authorized(server: RunningServer, header: str) -> httpx.Client:
    return client_with(server, {"Authorization": header})


# --- auth -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"), [("POST", GENERATE), ("POST", EXTEND), ("GET", DETAIL)]
)
def test_missing_authorization_is_401_you_do_not_have_access_permissions(
    anonymous: httpx.Client, method: str, path: str
) -> None:
    kwargs: dict[str, Any] = {"json": TEXT_BODY} if method == "POST" else {}
    response = anonymous.request(method, path, params={"taskId": "x"}, **kwargs)
    answered(response, 401, NO_ACCESS)


@pytest.mark.parametrize(
    "header", ["Bearer not-a-key", "not-a-key", "Bearer", "Basic YWxpY2U6c2VjcmV0", "Bearer a b"]
)
def test_unknown_or_malformed_key_is_401(quiet: RunningServer, header: str) -> None:
    client = authorized(quiet, header)
    answered(client.get(DETAIL, params={"taskId": "x"}), 401, NO_ACCESS)
    answered(client.post(GENERATE, json=TEXT_BODY), 401, NO_ACCESS)


def test_authorization_header_with_non_ascii_bytes_is_401(quiet: RunningServer) -> None:
    client = client_with(quiet, {"Authorization": b"Bearer \xe9\xff\x80"})
    answered(client.get(DETAIL, params={"taskId": "x"}), 401, NO_ACCESS)


def test_bearer_key_is_accepted(quiet: RunningServer, queued_task: str) -> None:
    client = authorized(quiet, f"Bearer {quiet.keys['alice']}")
    answered(client.get(DETAIL, params={"taskId": queued_task}), 200)


def test_bare_key_without_scheme_is_accepted(quiet: RunningServer, queued_task: str) -> None:
    client = authorized(quiet, quiet.keys["alice"])
    answered(client.get(DETAIL, params={"taskId": queued_task}), 200)
    accepted(client.post(GENERATE, json=TEXT_BODY))


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
def test_bearer_scheme_is_case_insensitive(
    quiet: RunningServer, queued_task: str, scheme: str
) -> None:
    client = authorized(quiet, f"{scheme} {quiet.keys['alice']}")
    answered(client.get(DETAIL, params={"taskId": queued_task}), 200)


def test_revoked_key_is_401_within_the_key_cache_period(quiet: RunningServer) -> None:
    carol = quiet.client("carol")
    answered(carol.get(DETAIL, params={"taskId": str(uuid.uuid4())}), 404)  # works, now cached
    env = {
        **os.environ,
        "REELSERVE_DATA_DIR": str(quiet.settings.data_dir),
        "REELSERVE_DATABASE_URL": quiet.settings.database_url,
    }
    done = subprocess.run(
        [str(REELSERVE_CLI), "keys", "revoke", "carol"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    revoked_at = time.monotonic()
    while True:
        body = envelope_of(carol.post(GENERATE, json=TEXT_BODY))
        if body["code"] == 401:
            break
        assert body["code"] == 200, body
        assert time.monotonic() - revoked_at < 5, "revoked key still works after 5 s"
        time.sleep(0.2)
    assert body["msg"] == NO_ACCESS
    answered(carol.get(DETAIL, params={"taskId": "x"}), 401, NO_ACCESS)
    # The other keys are untouched.
    answered(quiet.client("alice").get(DETAIL, params={"taskId": "x"}), 404)


# --- envelope and HTTP status ---------------------------------------------------------------


def test_success_answer_is_an_envelope_with_message_equal_to_msg(quiet: RunningServer) -> None:
    body = answered(quiet.client("alice").post(GENERATE, json=TEXT_BODY), 200, "success")
    assert set(body["data"]) == {"taskId"}


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "code"),
    [
        ("GET", DETAIL, {}, 422),
        ("GET", DETAIL, {"params": {"taskId": "unknown"}}, 404),
        ("POST", GENERATE, {"json": {}}, 422),
        ("POST", EXTEND, {"json": {"taskId": "unknown", "prompt": "x", "quality": "720p"}}, 404),
    ],
    ids=["422-detail", "404-detail", "422-generate", "404-extend"],
)
def test_error_codes_are_sent_with_http_200_by_default(
    quiet: RunningServer, method: str, path: str, kwargs: dict[str, Any], code: int
) -> None:
    response = quiet.client("alice").request(method, path, **kwargs)
    assert response.status_code == 200
    answered(response, code)


def test_401_is_sent_with_http_200_by_default(anonymous: httpx.Client) -> None:
    response = anonymous.get(DETAIL, params={"taskId": "x"})
    assert response.status_code == 200
    answered(response, 401, NO_ACCESS)


@pytest.fixture(scope="module")
def rest(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[RunningServer]:
    with run_server(
        tmp_path_factory.mktemp("rest"), run_worker=False, http_status="rest", backend=backend
    ) as s:
        yield s


@pytest.mark.parametrize(
    ("key", "method", "path", "kwargs", "code"),
    [
        ("alice", "POST", GENERATE, {"json": TEXT_BODY}, 200),
        (None, "GET", DETAIL, {"params": {"taskId": "x"}}, 401),
        ("alice", "GET", DETAIL, {"params": {"taskId": "x"}}, 404),
        ("alice", "GET", DETAIL, {}, 422),
        ("alice", "POST", GENERATE, {"json": {**TEXT_BODY, "duration": 7}}, 422),
        ("alice", "GET", "/api/v1/nope", {}, 404),
    ],
    ids=["200", "401", "404", "422-query", "422-body", "404-path"],
)
def test_rest_http_status_makes_the_http_status_equal_code(
    rest: RunningServer,
    key: str | None,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    code: int,
) -> None:
    response = rest.client(key).request(method, path, **kwargs)
    assert response.status_code == code
    answered(response, code)


def test_unknown_path_answers_an_envelope_with_code_404(anonymous: httpx.Client) -> None:
    response = anonymous.get("/api/v1/runway/does-not-exist")
    answered(response, 404)
    assert response.status_code == 200


def test_wrong_method_answers_an_envelope(quiet: RunningServer) -> None:
    response = quiet.client("alice").delete(GENERATE)
    body = envelope_of(response)
    assert body["code"] in (404, 405), body


# --- operator switches: maintenance, disabled features, engines ------------------------------


@pytest.fixture(scope="module")
def maintenance(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[RunningServer, str]]:
    """A server in maintenance over a data dir that already holds one of alice's tasks."""
    data_dir = tmp_path_factory.mktemp("maintenance")
    with run_server(data_dir, run_worker=False) as before:
        task_id = accepted(before.client("alice").post(GENERATE, json=TEXT_BODY))
        keys = dict(before.keys)
    with run_server(data_dir, (), run_worker=False, maintenance=True) as running:
        running.keys.update(keys)
        yield running, task_id


def test_maintenance_answers_455_to_generate(maintenance: tuple[RunningServer, str]) -> None:
    server, _ = maintenance
    answered(server.client("alice").post(GENERATE, json=TEXT_BODY), 455)
    answered(server.client("alice").post(GENERATE, json=IMAGE_BODY), 455)


def test_maintenance_answers_455_to_extend(maintenance: tuple[RunningServer, str]) -> None:
    server, task_id = maintenance
    body = {"taskId": task_id, "prompt": "more", "quality": "720p"}
    answered(server.client("alice").post(EXTEND, json=body), 455)


def test_record_detail_still_works_in_maintenance(maintenance: tuple[RunningServer, str]) -> None:
    server, task_id = maintenance
    body = answered(server.client("alice").get(DETAIL, params={"taskId": task_id}), 200)
    assert body["data"]["taskId"] == task_id
    assert body["data"]["state"] == "queueing"
    answered(server.client("alice").get(DETAIL, params={"taskId": "unknown"}), 404)


def test_maintenance_still_requires_a_key(maintenance: tuple[RunningServer, str]) -> None:
    server, _ = maintenance
    answered(server.client(None).post(GENERATE, json=TEXT_BODY), 401, NO_ACCESS)


def test_disabled_image_to_video_is_505_while_text_to_video_works(tmp_path: Path) -> None:
    with run_server(
        tmp_path / "data", run_worker=False, disabled_features={"image_to_video"}
    ) as server:
        alice = server.client("alice")
        answered(alice.post(GENERATE, json=IMAGE_BODY), 505)
        accepted(alice.post(GENERATE, json=TEXT_BODY))


def test_operation_without_an_engine_is_505(tmp_path: Path) -> None:
    engines = {Capability.TEXT_TO_VIDEO: "synthetic"}
    with run_server(tmp_path / "data", run_worker=False, engines=engines) as server:
        alice = server.client("alice")
        answered(alice.post(GENERATE, json=IMAGE_BODY), 505)
        task_id = accepted(alice.post(GENERATE, json=TEXT_BODY))
        body = {"taskId": task_id, "prompt": "more", "quality": "720p"}
        answered(alice.post(EXTEND, json=body), 505)


# --- CORS and OpenAPI -----------------------------------------------------------------------


@pytest.mark.parametrize("path", [GENERATE, EXTEND, DETAIL])
def test_cors_preflight_allows_any_origin_with_an_authorization_header(
    anonymous: httpx.Client, path: str
) -> None:
    response = anonymous.options(
        path,
        headers={
            "Origin": "https://app.example.com",
            "Access-Control-Request-Method": "POST" if path != DETAIL else "GET",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        },
    )
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] in ("*", "https://app.example.com")
    allowed_headers = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed_headers
    assert "access-control-allow-credentials" not in response.headers


def test_cors_header_is_on_normal_answers(quiet: RunningServer, queued_task: str) -> None:
    client = client_with(
        quiet,
        {"Authorization": f"Bearer {quiet.keys['alice']}", "Origin": "https://app.example.com"},
    )
    response = client.get(DETAIL, params={"taskId": queued_task})
    answered(response, 200)
    assert response.headers["access-control-allow-origin"] in ("*", "https://app.example.com")


def test_cors_header_is_on_error_answers_too(anonymous: httpx.Client) -> None:
    response = anonymous.get(
        DETAIL, params={"taskId": "x"}, headers={"Origin": "https://app.example.com"}
    )
    answered(response, 401)
    assert "access-control-allow-origin" in response.headers


def test_openapi_json_lists_the_three_runway_paths(anonymous: httpx.Client) -> None:
    response = anonymous.get("/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "post" in paths[GENERATE]
    assert "post" in paths[EXTEND]
    assert "get" in paths[DETAIL]
    generate_schema = paths[GENERATE]["post"]["requestBody"]["content"]["application/json"]
    properties = generate_schema["schema"]["properties"]
    assert {"prompt", "duration", "quality", "aspectRatio", "imageUrl", "waterMark"} <= set(
        properties
    )
    assert "callBackUrl" in properties


def test_docs_page_is_served(anonymous: httpx.Client) -> None:
    response = anonymous.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "openapi.json" in response.text
