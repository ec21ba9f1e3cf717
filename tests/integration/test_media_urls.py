"""Signed media URLs: tamper and expiry answer 403, Range answers 206, keys are isolated."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.support import RunningServer


@pytest.fixture(scope="module")
def finished(server: RunningServer) -> dict[str, Any]:
    client = server.client("alice")
    answer = client.post(
        "/api/v1/runway/generate",
        json={"prompt": "media url checks", "duration": 5, "quality": "720p", "aspectRatio": "1:1"},
    ).json()
    record = server.wait(client, answer["data"]["taskId"])
    assert record["state"] == "success"
    return record


def _parts(url: str) -> tuple[str, dict[str, str]]:
    split = urlsplit(url)
    return split.path, {k: v[0] for k, v in parse_qs(split.query).items()}


def test_signed_url_serves_the_video_without_an_api_key(
    server: RunningServer, finished: dict[str, Any]
) -> None:
    response = server.client(None).get(finished["videoInfo"]["videoUrl"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers.get("accept-ranges") == "bytes"


def test_range_request_answers_206_with_the_asked_bytes(
    server: RunningServer, finished: dict[str, Any]
) -> None:
    client = server.client(None)
    url = finished["videoInfo"]["videoUrl"]
    whole = client.get(url).content
    partial = client.get(url, headers={"Range": "bytes=100-1099"})
    assert partial.status_code == 206
    assert partial.headers["content-range"] == f"bytes 100-1099/{len(whole)}"
    assert partial.content == whole[100:1100]
    tail = client.get(url, headers={"Range": "bytes=-500"})
    assert tail.status_code == 206 and tail.content == whole[-500:]


def test_head_request_reports_the_length(server: RunningServer, finished: dict[str, Any]) -> None:
    client = server.client(None)
    url = finished["videoInfo"]["videoUrl"]
    head = client.head(url)
    assert head.status_code == 200
    assert int(head.headers["content-length"]) == len(client.get(url).content)


@pytest.mark.parametrize("part", ["sig", "expires", "path", "missing-sig"])
def test_tampered_signed_url_is_403(
    server: RunningServer, finished: dict[str, Any], part: str
) -> None:
    path, query = _parts(finished["videoInfo"]["videoUrl"])
    if part == "sig":
        query["sig"] = ("A" if query["sig"][0] != "A" else "B") + query["sig"][1:]
    elif part == "expires":
        query["expires"] = str(int(query["expires"]) + 86400)
    elif part == "path":
        path = path.replace("video.mp4", "cover.png")
    else:
        del query["sig"]
    response = server.client(None).get(f"{server.base_url}{path}?{urlencode(query)}")
    assert response.status_code == 403
    assert response.json()["code"] == 403


def test_expired_signature_is_403(server: RunningServer, finished: dict[str, Any]) -> None:
    path, _ = _parts(finished["videoInfo"]["videoUrl"])
    key = path.removeprefix("/files/")
    signer = server.app.state.signer
    url = signer.url(key, int(time.time()) - 1)
    response = server.client(None).get(url)
    assert response.status_code == 403
    assert "expired" in response.json()["msg"]


def test_validly_signed_url_of_a_deleted_blob_is_410(server: RunningServer) -> None:
    url = server.app.state.signer.url("media/gone/none/video.mp4", int(time.time()) + 60)
    assert server.client(None).get(url).status_code == 410


def test_traversal_in_a_file_key_is_refused(server: RunningServer) -> None:
    response = server.client(None).get(
        f"{server.base_url}/files/media/../signing.key?expires=9999999999&sig=x"
    )
    assert response.status_code in (403, 404)


def test_another_keys_task_is_not_found(server: RunningServer, finished: dict[str, Any]) -> None:
    bob = server.client("bob")
    detail = bob.get("/api/v1/runway/record-detail", params={"taskId": finished["taskId"]}).json()
    assert detail["code"] == 404 and detail["data"] is None
    extension = bob.post(
        "/api/v1/runway/extend",
        json={"taskId": finished["taskId"], "prompt": "mine now", "quality": "720p"},
    ).json()
    assert extension["code"] == 404


def test_the_owner_sees_the_task(server: RunningServer, finished: dict[str, Any]) -> None:
    alice = server.client("alice")
    detail = alice.get("/api/v1/runway/record-detail", params={"taskId": finished["taskId"]}).json()
    assert detail["code"] == 200 and detail["data"]["state"] == "success"
