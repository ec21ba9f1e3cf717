"""The console's access rules over plain HTTP: off without a token, a session cookie that
only it reads, CSRF on every form, nothing secret on any page, filters and paging."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import httpx
import pytest

from reelserve.console import auth
from reelserve.security.apikeys import display_prefix, generate_key, hash_key
from reelserve.store.store import Store
from tests.support import RunningServer, run_server

TOKEN = "console-admin-token"
GENERATE = "/api/v1/runway/generate"
BODY = {"prompt": "queued", "duration": 5, "quality": "720p", "aspectRatio": "16:9"}
WEBHOOK_SECRET = "whsec_consoleneverShowsThis"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    # No worker: tasks stay queued, so their rows are what the test made.
    with run_server(
        tmp_path_factory.mktemp("console-http"), run_worker=False, admin_token=TOKEN
    ) as running:
        secret = asyncio.run(_key_with_webhook_secret(running))
        running.keys["hooked"] = secret
        yield running


async def _key_with_webhook_secret(server: RunningServer) -> str:
    store = Store(server.settings.resolved_database_url)
    await store.open()
    try:
        secret = generate_key()
        await store.keys.create(
            "hooked", hash_key(secret), display_prefix(secret), WEBHOOK_SECRET, rate_limit=0
        )
        return secret
    finally:
        await store.close()


def logged_in(server: RunningServer) -> tuple[httpx.Client, str]:
    """A client with a console session, and that session's CSRF token."""
    client = httpx.Client(base_url=server.base_url)
    form = client.get("/console/login")
    nonce = re.search(r'name="nonce" value="([^"]+)"', form.text)
    assert nonce is not None
    answer = client.post("/console/login", data={"token": TOKEN, "nonce": nonce.group(1)})
    assert answer.status_code == 303 and answer.headers["location"] == "/console/tasks"
    page = client.get("/console/keys")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    return client, csrf.group(1)


def test_without_a_token_the_console_is_off_and_says_how_to_turn_it_on(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with run_server(tmp_path_factory.mktemp("console-off"), run_worker=False) as off:
        for path in ("/console", "/console/tasks", "/console/login", "/console/api/tasks"):
            answer = httpx.get(off.base_url + path)
            assert answer.status_code == 404, path
            assert "REELSERVE_ADMIN_TOKEN" in answer.text
        assert httpx.post(off.base_url + "/console/login", data={"token": ""}).status_code == 404


@pytest.mark.parametrize("path", ["/console", "/console/tasks", "/console/keys", "/console/system",
                                  "/console/tasks/some-task"])  # fmt: skip
def test_pages_without_a_session_redirect_to_the_login(server: RunningServer, path: str) -> None:
    answer = httpx.get(server.base_url + path)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/console/login")
    assert "<table" not in answer.text


def test_the_live_read_without_a_session_is_a_401(server: RunningServer) -> None:
    assert httpx.get(server.base_url + "/console/api/tasks?ids=x").status_code == 401


def test_an_api_key_does_not_open_the_console_nor_the_cookie_the_api(
    server: RunningServer,
) -> None:
    with_key = server.client("alice").get("/console/tasks")
    assert with_key.status_code == 303
    client, _ = logged_in(server)
    assert client.get("/console/tasks").status_code == 200
    assert client.get("/api/v1/chat/credit").json()["code"] == 401


def test_a_tampered_expired_or_other_tokens_cookie_is_no_session(server: RunningServer) -> None:
    client, _ = logged_in(server)
    good = client.cookies.get(auth.COOKIE, path="/console")
    assert good is not None
    session_id, expires, mac = good.split(".")
    other = server.settings.model_copy(update={"admin_token": "another-token"})
    forged = [
        f"{session_id}.{int(expires) + 1}.{mac}",
        f"{session_id}x.{expires}.{mac}",
        auth.new_session(server.settings, now=0),
        auth.new_session(other),
        "garbage",
    ]
    for value in forged:
        answer = httpx.get(server.base_url + "/console/tasks", cookies={auth.COOKIE: value})
        assert answer.status_code == 303, value


def test_the_login_form_needs_its_own_token(server: RunningServer) -> None:
    answer = httpx.post(server.base_url + "/console/login", data={"token": TOKEN, "nonce": "x"})
    assert answer.status_code == 403
    assert auth.COOKIE not in answer.cookies


def forms(task_id: str) -> list[tuple[str, dict[str, str]]]:
    return [
        ("/console/keys", {"name": "forged-key"}),
        ("/console/keys/alice/update", {"rate_limit": "1"}),
        ("/console/keys/alice/disable", {}),
        (f"/console/tasks/{task_id}/cancel", {}),
        (f"/console/tasks/{task_id}/redeliver", {}),
        ("/console/logout", {}),
    ]


@pytest.mark.parametrize("csrf", ["", "wrong"], ids=["missing", "wrong"])
def test_every_form_refuses_a_missing_or_wrong_csrf_token_and_changes_nothing(
    server: RunningServer, csrf: str
) -> None:
    task_id = server.client("alice").post(GENERATE, json=BODY).json()["data"]["taskId"]
    client, _ = logged_in(server)
    before = client.get("/console/keys").text
    for path, data in forms(task_id):
        sent = {**data, "csrf": csrf} if csrf else data
        answer = client.post(path, data=sent)
        assert answer.status_code == 403, path
        assert "CSRF" in answer.text
    assert client.get("/console/keys").text == before
    detail = server.client("alice").get("/api/v1/tasks/detail", params={"taskId": task_id})
    assert detail.json()["data"]["status"] == "queued"
    assert client.get("/console/tasks").status_code == 200  # still logged in


def test_with_the_token_the_forms_work(server: RunningServer) -> None:
    client, csrf = logged_in(server)
    task_id = server.client("bob").post(GENERATE, json=BODY).json()["data"]["taskId"]
    answer = client.post(f"/console/tasks/{task_id}/cancel", data={"csrf": csrf})
    assert answer.status_code == 303
    detail = server.client("bob").get("/api/v1/tasks/detail", params={"taskId": task_id})
    assert detail.json()["data"]["status"] == "canceled"
    answer = client.post("/console/keys/bob/update", data={"csrf": csrf, "max_queued": "7"})
    assert answer.status_code == 303
    assert 'name="max_queued" value="7"' in client.get("/console/keys").text
    bad = client.post("/console/keys/bob/update", data={"csrf": csrf, "max_queued": "-1"})
    assert bad.status_code == 422 and "max_queued" in bad.text


def test_no_page_shows_a_key_or_webhook_secret(server: RunningServer) -> None:
    client, _ = logged_in(server)
    task_id = server.client("hooked").post(GENERATE, json=BODY).json()["data"]["taskId"]
    pages = [client.get(p).text for p in ("/console/tasks", "/console/keys", "/console/system")]
    pages.append(client.get(f"/console/tasks/{task_id}").text)
    for html in pages:
        for key in server.keys.values():
            assert key not in html
        assert WEBHOOK_SECRET not in html


def test_task_text_is_escaped_and_pages_carry_security_headers(server: RunningServer) -> None:
    client, _ = logged_in(server)
    body = {**BODY, "prompt": "<script>alert('x')</script>"}
    task_id = server.client("alice").post(GENERATE, json=body).json()["data"]["taskId"]
    answer = client.get(f"/console/tasks/{task_id}")
    assert "<script>alert" not in answer.text
    assert "&lt;script&gt;alert" in answer.text
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["cache-control"] == "no-store"


def test_the_task_list_filters_and_pages(server: RunningServer) -> None:
    client, _ = logged_in(server)
    made = [
        server.client("bob")
        .post(GENERATE, json={**BODY, "prompt": f"page {n}"})
        .json()["data"]["taskId"]
        for n in range(3)
    ]
    listed = client.get("/console/tasks", params={"status": "queued", "key": bob_id(server)})
    rows = re.findall(r'data-task="([^"]+)"', listed.text)
    assert set(made) <= set(rows)
    assert all(f"/console/tasks/{t}" in listed.text for t in made)
    none = client.get("/console/tasks", params={"family": "suno"})
    assert re.findall(r'data-task="([^"]+)"', none.text) == []
    many = 52 - len(re.findall(r'data-task="', client.get("/console/tasks").text))
    for n in range(max(0, many)):
        server.client("alice").post(GENERATE, json={**BODY, "prompt": f"filler {n}"})
    first = client.get("/console/tasks")
    first_rows = re.findall(r'data-task="([^"]+)"', first.text)
    assert len(first_rows) == 50
    older = re.search(r'href="/console/tasks(\?[^"]*before=\d+)"', first.text)
    assert older is not None
    second = client.get("/console/tasks" + older.group(1).replace("&amp;", "&"))
    second_rows = re.findall(r'data-task="([^"]+)"', second.text)
    assert second_rows and not set(second_rows) & set(first_rows)


def bob_id(server: RunningServer) -> str:
    async def run() -> str:
        store = Store(server.settings.resolved_database_url)
        await store.open()
        try:
            return next(k.id for k in await store.keys.list() if k.name == "bob")
        finally:
            await store.close()

    return asyncio.run(run())
