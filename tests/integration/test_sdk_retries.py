"""Retries at the transport level: a real loopback server answers 503/429 then 200, and a
counting transport counts what actually went over the wire."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from reelserve.client import (
    AsyncClient,
    Client,
    RateLimited,
    RetryPolicy,
    ServerError,
    TransportError,
)
from reelserve.security.apikeys import display_prefix, generate_key, hash_key
from reelserve.store.store import Store
from tests.receivers import Receiver, Reply, closed_port
from tests.support import run_server

FAST = RetryPolicy(max_retries=3, backoff_base=0.05, backoff_max=0.2)
CREDIT = "/api/v1/chat/credit"
GENERATE = "/api/v1/runway/generate"


def envelope(code: int, data: object = None, msg: str = "m") -> bytes:
    return json.dumps({"code": code, "msg": msg, "message": msg, "data": data}).encode()


class CountingTransport(httpx.HTTPTransport):
    """A real transport that counts the requests it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(f"{request.method} {request.url.path}")
        return super().handle_request(request)


class AsyncCountingTransport(httpx.AsyncHTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.sent: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(f"{request.method} {request.url.path}")
        return await super().handle_async_request(request)


def test_a_safe_call_is_retried_through_503_and_429_honouring_retry_after() -> None:
    with Receiver() as rx:
        rx.script(
            CREDIT,
            Reply(503, body=b"busy"),
            Reply(200, {"Retry-After": "1"}, body=envelope(429, msg="slow down")),  # KIE style
            Reply(200, body=envelope(200, 42)),
        )
        with Client(api_key="k", base_url=rx.base_url, retry=FAST) as c:
            assert c.credits() == 42
        first, second, third = rx.received(CREDIT)
        assert second.monotonic - first.monotonic < 0.6  # backoff, not Retry-After
        assert third.monotonic - second.monotonic >= 0.95  # Retry-After: 1 honoured
        assert all(r.headers["authorization"] == "Bearer k" for r in (first, second, third))


def test_rest_style_429_and_a_bare_502_are_retried_too() -> None:
    with Receiver() as rx:
        rx.script(
            CREDIT,
            Reply(429, {"Retry-After": "0"}, body=envelope(429)),
            Reply(502, body=b"<html>bad gateway</html>"),
            Reply(200, body=envelope(200, 7)),
        )
        with Client(api_key="k", base_url=rx.base_url, retry=FAST) as c:
            assert c.credits() == 7
        assert len(rx.received(CREDIT)) == 3


def test_a_task_creating_post_is_never_retried() -> None:
    with Receiver() as rx:
        rx.script(GENERATE, Reply(503, body=envelope(503)), Reply(200, body=envelope(200)))
        with Client(api_key="k", base_url=rx.base_url, retry=FAST) as c:
            with pytest.raises(ServerError):
                c.runway.generate(prompt="x", aspect_ratio="16:9")
            assert len(rx.received(GENERATE)) == 1
            rx.script(GENERATE, Reply(200, {"Retry-After": "3"}, body=envelope(429)))
            with pytest.raises(RateLimited) as caught:
                c.runway.generate(prompt="x", aspect_ratio="16:9")
            assert caught.value.retry_after == 3.0
            assert len(rx.received(GENERATE)) == 2  # one more request, no retry


def test_retries_stop_after_max_retries() -> None:
    with Receiver() as rx:
        rx.script(CREDIT, Reply(503, body=envelope(503, msg="still busy")))
        policy = RetryPolicy(max_retries=2, backoff_base=0.01)
        with (
            Client(api_key="k", base_url=rx.base_url, retry=policy) as c,
            pytest.raises(ServerError, match="still busy"),
        ):
            c.credits()
        assert len(rx.received(CREDIT)) == 3


def test_connection_errors_are_retried_only_for_safe_calls() -> None:
    base = f"http://127.0.0.1:{closed_port()}"
    transport = CountingTransport()
    with Client(api_key="k", base_url=base, transport=transport, retry=FAST) as c:
        with pytest.raises(TransportError):
            c.runway.get("t-1")
        assert transport.sent == ["GET /api/v1/runway/record-detail"] * 4
        transport.sent.clear()
        with pytest.raises(TransportError):
            c.jobs.create("synthetic/text-to-video", {"prompt": "x"})
        assert transport.sent == ["POST /api/v1/jobs/createTask"]


def test_downloads_are_retried_and_written_whole(tmp_path: Path) -> None:
    with Receiver() as rx:
        url = rx.script("/media/v.mp4", Reply(503), Reply(200, body=b"video-bytes" * 1000))
        with Client(api_key="k", base_url=rx.base_url, retry=FAST) as c:
            out = c.download(url, tmp_path / "deep" / "v.mp4")
        assert out.read_bytes() == b"video-bytes" * 1000
        assert [p.name for p in out.parent.iterdir()] == ["v.mp4"]  # no partial file left
        # a signed media URL never carries the API key
        assert all("authorization" not in r.headers for r in rx.received("/media/v.mp4"))


def test_the_async_client_retries_the_same_way() -> None:
    async def scenario(base: str) -> AsyncCountingTransport:
        transport = AsyncCountingTransport()
        async with AsyncClient(api_key="k", base_url=base, transport=transport, retry=FAST) as c:
            assert await c.credits() == 5
            with pytest.raises(ServerError):
                await c.aleph.generate(prompt="x", video_url="https://example.com/v.mp4")
        return transport

    with Receiver() as rx:
        rx.script(
            CREDIT,
            Reply(200, {"Retry-After": "1"}, body=envelope(429)),
            Reply(200, body=envelope(200, 5)),
        )
        rx.script("/api/v1/aleph/generate", Reply(500, body=envelope(500)))
        transport = asyncio.run(scenario(rx.base_url))
        assert transport.sent == [f"GET {CREDIT}", f"GET {CREDIT}", "POST /api/v1/aleph/generate"]
        first, second = rx.received(CREDIT)
        assert second.monotonic - first.monotonic >= 0.95


def test_a_real_rate_limit_raises_with_retry_after_and_sends_once(tmp_path: Path) -> None:
    with run_server(tmp_path / "data", run_worker=False) as srv:
        key = generate_key()

        async def limited_key() -> None:
            store = Store(srv.settings.resolved_database_url)
            await store.open()
            try:
                await store.keys.create(
                    "one", hash_key(key), display_prefix(key), None, rate_limit=1
                )
            finally:
                await store.close()

        asyncio.run(limited_key())
        transport = CountingTransport()
        with Client(api_key=key, base_url=srv.base_url, transport=transport, retry=FAST) as c:
            c.runway.generate(prompt="first", aspect_ratio="16:9")
            with pytest.raises(RateLimited) as caught:
                c.runway.generate(prompt="second", aspect_ratio="16:9")
        assert caught.value.retry_after is not None and 0 < caught.value.retry_after <= 10
        assert transport.sent == [f"POST {GENERATE}", f"POST {GENERATE}"]
