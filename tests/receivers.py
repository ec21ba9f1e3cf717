"""A real callback receiver for tests: a threaded HTTP server on 127.0.0.1.

What it answers is scripted per path, one `Reply` per request in order (the
last one repeats): a status, extra headers (`Retry-After`, `Location`), and a
delay before answering (a hanging receiver). Every request is recorded with
its arrival time, headers and raw body, so tests can check what was sent and
when, and dedupe the way a real receiver would (by `webhook-id`).

Example::

    with Receiver() as rx:
        url = rx.script("/flaky", Reply(500), Reply(200))
        ...  # submit a task with callBackUrl=url
        first, second = rx.wait_for("/flaky", 2)
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    """How to answer one request."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    body: bytes = b"ok"


@dataclass(frozen=True)
class Recorded:
    """One request as it arrived."""

    at: float  # time.time() when the request line arrived
    monotonic: float
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a hanging handler must not block close()
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a sender that gave up and reset the connection is not news


class Receiver:
    """A scripted, recording HTTP receiver. `port=0` picks a free port."""

    def __init__(self, port: int = 0, default: Reply | None = None) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._scripts: dict[str, list[Reply]] = {}
        self._default = default or Reply()
        self.requests: list[Recorded] = []
        self._connections: set[socket.socket] = set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do

            def setup(self) -> None:
                super().setup()
                with receiver._lock:
                    receiver._connections.add(self.connection)

            def finish(self) -> None:
                with receiver._lock:
                    receiver._connections.discard(self.connection)
                with contextlib.suppress(OSError):
                    super().finish()

            def do_POST(self) -> None:
                receiver._handle(self)

            do_GET = do_POST
            do_PUT = do_POST

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = _Server(("127.0.0.1", port), Handler)
        self.port: int = self._httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    # -- scripting -----------------------------------------------------------

    def script(self, path: str, *replies: Reply) -> str:
        """Answer requests to `path` with `replies` in order (the last repeats); its URL."""
        with self._lock:
            self._scripts[path] = list(replies) or [self._default]
        return self.url(path)

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def _next_reply(self, path: str) -> Reply:
        with self._lock:
            script = self._scripts.get(path)
            if not script:
                return self._default
            return script.pop(0) if len(script) > 1 else script[0]

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        arrived, arrived_mono = time.time(), time.monotonic()
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        recorded = Recorded(
            at=arrived,
            monotonic=arrived_mono,
            method=handler.command,
            path=handler.path,
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=body,
        )
        with self._changed:
            self.requests.append(recorded)
            self._changed.notify_all()
        reply = self._next_reply(handler.path)
        if reply.delay_s:
            time.sleep(reply.delay_s)
        try:
            handler.send_response(reply.status)
            for name, value in reply.headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Type", "text/plain")
            handler.send_header("Content-Length", str(len(reply.body)))
            handler.end_headers()
            handler.wfile.write(reply.body)
            handler.wfile.flush()
        except OSError:
            pass  # the sender gave up (timeout) and closed the connection

    # -- reading what arrived ------------------------------------------------

    def received(self, path: str | None = None) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if path is None or r.path == path]

    def wait_for(self, path: str | None, count: int, timeout: float = 15) -> list[Recorded]:
        """Block until `count` requests reached `path` (any path if None); those requests."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                got = [r for r in self.requests if path is None or r.path == path]
                if len(got) >= count:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"{len(got)} request(s) to {path or 'any path'} after {timeout} s, "
                        f"expected {count}"
                    )
                self._changed.wait(left)

    # -- lifecycle -----------------------------------------------------------

    def close(self) -> None:
        """Stop listening and drop open connections: from now on the port refuses."""
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def closed_port() -> int:
    """A loopback port nothing listens on (connections to it are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dedupe_by_webhook_id(requests: list[Recorded]) -> dict[str, Recorded]:
    """What an idempotent receiver keeps: the first complete request of each webhook-id.

    A request cut short (its sender killed mid-send: fewer bytes than its
    Content-Length) fails the receiver's signature check and is not kept; the
    delivery is sent again."""
    kept: dict[str, Recorded] = {}
    for r in requests:
        declared = r.headers.get("content-length")
        if not r.body or (declared is not None and declared.isdigit() and
                          len(r.body) != int(declared)):  # fmt: skip
            continue
        kept.setdefault(r.headers["webhook-id"], r)
    return kept
