"""Upstream test parts: a second real reelserve (its own port, database and data) that
speaks KIE's wire format, and a fault-injecting HTTP proxy in front of it.

    with UpstreamServer(tmp_path / "up") as up, FaultProxy(up.base_url) as proxy:
        proxy.fail("503", times=3)     # the next three requests answer 503
        proxy.mode = "hang"            # every request hangs until the mode changes
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from sqlalchemy import func, select

from reelserve.store.store import Store
from reelserve.store.tables import tasks
from reelserve.upstream.config import UpstreamConfig
from tests.cluster import Cluster, Process

MODES = ("pass", "503", "500", "hang", "429", "reset", "402", "401", "422")


class UpstreamServer:
    """`reelserve serve` in a subprocess with its own SQLite database: the upstream."""

    def __init__(self, root: Path, **env: str) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.cluster = Cluster(
            root,
            f"sqlite+aiosqlite:///{root / 'upstream.db'}",
            REELSERVE_ALLOW_PRIVATE_URLS="true",
            REELSERVE_SIGNING_SECRET="upstream-secret",
            REELSERVE_WORKER_POLL_S="0.2",
            **env,
        )
        self.base_url = self.cluster.base_url
        self.key = ""
        self.api: Process | None = None

    def __enter__(self) -> UpstreamServer:
        self.key = self.cluster.create_key("front")
        self.api = self.cluster.start_api(worker=True)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cluster.stop()

    def task_count(self) -> int:
        async def count(store: Store) -> int:
            return int(
                await store.db.read(lambda c: c.scalar(select(func.count()).select_from(tasks)))
                or 0
            )

        return int(self.cluster.read(count))

    def task_rows(self) -> list[dict[str, Any]]:
        return self.cluster.task_rows()

    def delete_media(self) -> int:
        """Delete every file the upstream made (as KIE's links expire)."""
        media = self.cluster.data_dir / "blobs" / "media"
        removed = 0
        for path in sorted(media.rglob("*"), reverse=True) if media.exists() else []:
            if path.is_file():
                path.unlink()
                removed += 1
        return removed

    def config(self, name: str = "test", url: str = "", **values: Any) -> UpstreamConfig:
        base = url or self.base_url
        values.setdefault("poll_s", 0.3)
        values.setdefault("retries", 2)
        values.setdefault("request_timeout_s", 5)
        return UpstreamConfig(name=name, url=base, key=self.key, **values)


class FaultProxy:
    """A real HTTP proxy on loopback in front of `target`, answering faults on demand.

    `mode` applies to every request; `fail(mode, times)` to the next `times` only.
    Modes: pass, 503/500/402/401 (a KIE error envelope with that code and HTTP status),
    429 (with `Retry-After: retry_after`), hang (no answer until the mode changes or
    `hang_s` passes), reset (the connection is closed without an answer).
    `seen` counts requests by method and path, `times` says when they came.
    """

    def __init__(self, target: str, retry_after: float = 1.0, hang_s: float = 60.0) -> None:
        self.target = target.rstrip("/")
        self.mode = "pass"
        self.retry_after = retry_after
        self.hang_s = hang_s
        self.seen: Counter[str] = Counter()
        self.times: dict[str, list[float]] = {}
        """When each request arrived (monotonic), by method and path."""
        self.messages: dict[str, str] = {}
        """The `msg` of an injected error, by mode."""
        self.faults: Counter[str] = Counter()
        self._queue: list[str] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                proxy._handle(self)

            def do_POST(self) -> None:
                proxy._handle(self)

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._client = httpx.Client(timeout=120)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.mode = "pass"
        self._httpd.shutdown()
        self._httpd.server_close()
        self._client.close()

    def fail(self, mode: str, times: int = 1) -> None:
        assert mode in MODES, mode
        with self._lock:
            self._queue.extend([mode] * times)

    def _next_mode(self) -> str:
        with self._lock:
            return self._queue.pop(0) if self._queue else self.mode

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length") or 0)
        body = handler.rfile.read(length) if length else b""
        path = handler.path.split("?", 1)[0]
        self.seen[f"{handler.command} {path}"] += 1
        self.times.setdefault(f"{handler.command} {path}", []).append(time.monotonic())
        mode = self._next_mode()
        if mode != "pass":
            self.faults[mode] += 1
        if mode == "hang":
            deadline = time.monotonic() + self.hang_s
            while self.mode == "hang" and time.monotonic() < deadline:
                time.sleep(0.05)
            _reset(handler)
            return
        if mode == "reset":
            _reset(handler)
            return
        if mode in ("503", "500", "402", "401", "422"):
            code = int(mode)
            message = self.messages.get(mode, f"injected {code}")
            _answer(handler, code, {"code": code, "msg": message, "data": None})
            return
        if mode == "429":
            _answer(
                handler,
                429,
                {"code": 429, "msg": "injected 429", "data": None},
                {"Retry-After": f"{self.retry_after:g}"},
            )
            return
        headers = {
            k: v
            for k, v in handler.headers.items()
            if k.lower() not in ("host", "content-length", "connection", "accept-encoding")
        }
        upstream = self._client.request(
            handler.command, self.target + handler.path, content=body, headers=headers
        )
        handler.send_response(upstream.status_code)
        for name, value in upstream.headers.items():
            if name.lower() in (
                "content-length",
                "transfer-encoding",
                "connection",
                "content-encoding",
            ):
                continue
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(upstream.content)))
        handler.end_headers()
        handler.wfile.write(upstream.content)


def _answer(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> None:
    import json

    raw = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(raw)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(raw)


def _reset(handler: BaseHTTPRequestHandler) -> None:
    """Close the connection with an RST and no answer."""
    import struct

    sock = handler.connection
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.close_connection = True
    with contextlib.suppress(OSError):
        sock.close()


def run(coro: Any) -> Any:
    return asyncio.run(coro)
