"""`Client.for_kie` sends API calls to api.kie.ai and uploads to KIE's upload host
(recorded by an httpx MockTransport: no request leaves the machine)."""

from __future__ import annotations

import json

import httpx

from reelserve.client import KIE_BASE_URL, KIE_UPLOAD_BASE_URL, Client


def test_for_kie_routes_calls_and_uploads_to_their_hosts() -> None:
    seen: list[tuple[str, str, str]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(
            (
                request.method,
                str(request.url.copy_with(query=None)),
                request.headers["authorization"],
            )
        )
        data: object = {"taskId": "kie-1"}
        if "upload" in request.url.path:
            data = {"downloadUrl": "https://tempfile.redpandaai.co/x/a.png", "fileName": "a.png"}
        if request.url.path.endswith("/chat/credit"):
            data = 100
        body = {"code": 200, "msg": "success", "data": data}
        return httpx.Response(200, content=json.dumps(body).encode())

    with Client.for_kie("kie-key", transport=httpx.MockTransport(answer)) as kie:
        assert kie.credits() == 100
        assert kie.runway.generate(prompt="x", aspect_ratio="16:9").id == "kie-1"
        assert kie.files.upload(b"\x89PNG...", file_name="a.png").download_url.startswith(
            "https://tempfile.redpandaai.co/"
        )
        assert kie.files.upload("https://example.com/a.png").file_name == "a.png"
    assert seen == [
        ("GET", f"{KIE_BASE_URL}/api/v1/chat/credit", "Bearer kie-key"),
        ("POST", f"{KIE_BASE_URL}/api/v1/runway/generate", "Bearer kie-key"),
        ("POST", f"{KIE_UPLOAD_BASE_URL}/api/file-base64-upload", "Bearer kie-key"),
        ("POST", f"{KIE_UPLOAD_BASE_URL}/api/file-url-upload", "Bearer kie-key"),
    ]
    assert KIE_BASE_URL == "https://api.kie.ai"
    assert KIE_UPLOAD_BASE_URL == "https://kieai.redpandaai.co"
