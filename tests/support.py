"""Test support: a real reelserve on a loopback port, run by uvicorn in a thread."""

from __future__ import annotations

import asyncio
import io
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import uvicorn
from PIL import Image

from reelserve.app import create_app
from reelserve.security.apikeys import display_prefix, generate_key, hash_key
from reelserve.settings import Settings
from reelserve.store.store import Store
from tests.databases import database_url


@dataclass
class RunningServer:
    base_url: str
    settings: Settings
    keys: dict[str, str]
    app: Any
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self, key: str | None = "alice", **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.keys[key]}"} if key else {}
        c = httpx.Client(base_url=self.base_url, headers=headers, timeout=60, **kwargs)
        self.clients.append(c)
        return c

    def wait(self, client: httpx.Client, task_id: str, timeout: float = 120) -> dict[str, Any]:
        return wait_for_task(client, task_id, timeout)


def wait_for_task(client: httpx.Client, task_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get("/api/v1/runway/record-detail", params={"taskId": task_id}).json()
        assert body["code"] == 200, body
        if body["data"]["state"] in ("success", "fail"):
            return dict(body["data"])
        time.sleep(0.1)
    raise AssertionError(f"task {task_id} did not finish in {timeout} s")


async def _create_keys(settings: Settings, names: list[str]) -> dict[str, str]:
    return await _create_keys_with_webhooks(settings, dict.fromkeys(names))


@contextmanager
def run_server(
    data_dir: Path,
    key_names: tuple[str, ...] = ("alice", "bob"),
    *,
    run_worker: bool = True,
    backend: str = "sqlite",
    **overrides: Any,
) -> Iterator[RunningServer]:
    """A real server on a loopback port, with unsigned keys named `key_names`.

    `backend="postgres"` gives it a fresh PostgreSQL database (tests/databases.py).
    """
    with run_server_with(
        data_dir, dict.fromkeys(key_names), run_worker=run_worker, backend=backend, **overrides
    ) as running:
        yield running


def png_bytes(
    width: int, height: int, color: tuple[int, int, int] | None = None, fmt: str = "PNG"
) -> bytes:
    """An image with structure (gradient and a square) unless a flat colour is asked for."""
    if color is not None:
        arr = np.zeros((height, width, 3), np.uint8) + np.array(color, np.uint8)
    else:
        y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
        x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
        arr = np.stack([x + 0 * y, y + 0 * x, 255 - (x + y) / 2], axis=-1).astype(np.uint8)
        arr[height // 4 : height // 2, width // 4 : width // 2] = (250, 30, 30)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format=fmt)
    return buf.getvalue()


class StaticHttpServer:
    """A real HTTP server on loopback answering fixed routes: path -> (status, type, body)."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        routes: dict[str, tuple[int, str, bytes]] = {}
        self.routes = routes

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, ctype, body = routes.get(self.path, (404, "text/plain", b"not found"))
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def add(
        self, path: str, body: bytes, ctype: str = "application/octet-stream", status: int = 200
    ) -> str:
        self.routes[path] = (status, ctype, body)
        return self.base_url + path

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def decode_all(path: Path) -> list[np.ndarray]:
    import av

    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def mad(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference in 0..255 units."""
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


async def _create_keys_with_webhooks(
    settings: Settings, specs: dict[str, str | None]
) -> dict[str, str]:
    """API keys by name, each with its webhook HMAC key (None: unsigned callbacks)."""
    store = Store(settings.resolved_database_url)
    await store.open()
    keys = {}
    try:
        for name, webhook_key in specs.items():
            key = generate_key()
            # Unlimited rate: tests submit in bursts; limits have tests of their own.
            await store.keys.create(
                name, hash_key(key), display_prefix(key), webhook_key, rate_limit=0
            )
            keys[name] = key
    finally:
        await store.close()
    return keys


@contextmanager
def run_server_with(
    data_dir: Path,
    keys: dict[str, str | None] | None = None,
    *,
    run_worker: bool = True,
    outbound_exempt: tuple[tuple[str, int], ...] = (),
    loop: str = "auto",
    backend: str = "sqlite",
    blobs: Any = None,
    **overrides: Any,
) -> Iterator[RunningServer]:
    """`run_server`, with webhook HMAC keys per API key and `create_app(outbound_exempt=...)`.

    `blobs` replaces the blob store the settings would choose (a fake, for faults).

    `loop="asyncio"` (not uvloop) makes the server resolve names through
    `socket.getaddrinfo`, so a test can stub DNS answers with monkeypatch.
    """
    with ExitStack() as stack:
        if backend != "sqlite" and "database_url" not in overrides:
            overrides["database_url"] = stack.enter_context(database_url(backend, data_dir))
        with _run_server_on(
            data_dir, keys, run_worker, outbound_exempt, loop, overrides, blobs
        ) as running:
            yield running


@contextmanager
def _run_server_on(
    data_dir: Path,
    keys: dict[str, str | None] | None,
    run_worker: bool,
    outbound_exempt: tuple[tuple[str, int], ...],
    loop: str,
    overrides: dict[str, Any],
    blobs: Any = None,
) -> Iterator[RunningServer]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "public_url": base,
        "allow_private_urls": True,
        "worker_poll_s": 0.2,
        "x264_preset": "ultrafast",
    }
    values.update(overrides)
    settings = Settings(**values)
    specs = keys if keys is not None else {"alice": None, "bob": None}
    created = asyncio.run(_create_keys_with_webhooks(settings, specs))
    app = create_app(settings, run_worker=run_worker, outbound_exempt=outbound_exempt, blobs=blobs)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", loop=loop))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    running = RunningServer(base, settings, created, app)
    try:
        yield running
    finally:
        for c in running.clients:
            c.close()
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def envelope_of(response: httpx.Response) -> dict[str, Any]:
    """The KIE envelope of an answer, checked: JSON, exactly {code, msg, message, data}."""
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert isinstance(body, dict), body
    assert set(body) == {"code", "msg", "message", "data"}, body
    assert isinstance(body["code"], int), body
    assert isinstance(body["msg"], str), body
    assert body["message"] == body["msg"], body
    return body


def accepted(response: httpx.Response) -> str:
    """The task id of an accepted submit (code 200, msg success, a UUID4 id)."""
    import uuid

    body = envelope_of(response)
    assert body["code"] == 200, body
    assert body["msg"] == "success", body
    task_id = str(body["data"]["taskId"])
    assert uuid.UUID(task_id).version == 4, task_id
    return task_id
