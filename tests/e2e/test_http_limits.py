"""`reelserve serve` as a real process bounds what clients can make it hold: a huge JSON
body is refused (413) at once with memory flat, and connections that are slow to send
their headers, or idle, are closed."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cluster import Cluster, Process

MB = 1024 * 1024


def rss_peak_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM), MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, Process, str]]:
    root = tmp_path_factory.mktemp("limits")
    url = f"sqlite+aiosqlite:///{(root / 'data' / 'reelserve.db').resolve()}"
    with Cluster(
        root,
        url,
        REELSERVE_HTTP_HEADER_TIMEOUT_S="1",
        REELSERVE_HTTP_KEEP_ALIVE_S="1",
    ) as cluster:
        key = cluster.create_key("k")
        api = cluster.start_api(worker=True)
        yield cluster, api, key


def test_a_50_mb_json_body_is_refused_with_413_in_under_a_second_with_memory_flat(
    served: tuple[Cluster, Process, str],
) -> None:
    cluster, api, key = served
    headers = {"Authorization": f"Bearer {key}"}
    body = b'{"prompt": "' + b"x" * (50 * MB) + b'", "duration": 5, "quality": "720p"}'
    with httpx.Client(base_url=cluster.base_url, headers=headers, timeout=30) as client:
        # Warm the paths (routes, auth, the envelope) before measuring.
        for _ in range(3):
            assert (
                client.post("/api/v1/runway/generate", content=b"x" * (30 * MB)).json()["code"]
                == 413
            )
        before = rss_peak_mb(api.pid)
        started = time.monotonic()
        answer = client.post(
            "/api/v1/runway/generate", content=body, headers={"Content-Type": "application/json"}
        )
        took = time.monotonic() - started
        after = rss_peak_mb(api.pid)

        # Several at once, and without a declared length (counted as it arrives).
        def chunks() -> Iterator[bytes]:
            for i in range(0, len(body), MB):
                yield body[i : i + MB]

        chunked = client.post("/api/v1/runway/generate", content=chunks())
        after_chunked = rss_peak_mb(api.pid)
        still = client.get("/readyz")
    envelope = answer.json()
    assert envelope["code"] == 413, envelope
    assert "larger than the limit of" in envelope["msg"]
    assert took < 1.0, f"413 after {took:.2f} s"
    assert after - before < 30, f"peak RSS grew {after - before:.1f} MiB"
    assert chunked.json()["code"] == 413
    assert after_chunked - before < 30, f"peak RSS grew {after_chunked - before:.1f} MiB"
    assert still.status_code == 200
    print(f"413 in {took * 1000:.0f} ms; peak RSS +{after - before:.1f} MiB "
          f"(+{after_chunked - before:.1f} MiB with the chunked one)")  # fmt: skip


def _closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closed `sock` (None: still open after `seconds`)."""
    started = time.monotonic()
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return time.monotonic() - started


def test_connections_slow_to_send_headers_or_idle_are_closed(
    served: tuple[Cluster, Process, str],
) -> None:
    cluster, _api, _key = served
    address = ("127.0.0.1", cluster.port)
    silent = socket.create_connection(address)
    partial = socket.create_connection(address)
    partial.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    trickle = socket.create_connection(address)
    trickle.sendall(b"GET /healthz HTTP/1.1\r\nX-Slow: ")
    idle = socket.create_connection(address)
    idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    try:
        for _ in range(3):  # a byte now and then does not keep a connection open
            trickle.sendall(b"s")
            time.sleep(0.3)
        closed = {
            name: _closed_within(sock, 5)
            for name, sock in (("silent", silent), ("partial", partial), ("trickle", trickle))
        }
        assert all(t is not None for t in closed.values()), closed
        idle_closed = _closed_within(idle, 5)  # answered, then idle past the keep-alive
        assert idle_closed is not None
        # The server still serves.
        assert httpx.get(cluster.base_url + "/healthz", timeout=5).status_code == 200
    finally:
        for sock in (silent, partial, trickle, idle):
            sock.close()


def test_headers_larger_than_the_limit_close_the_connection(
    served: tuple[Cluster, Process, str],
) -> None:
    cluster, _api, _key = served
    with socket.create_connection(("127.0.0.1", cluster.port)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        try:
            for _ in range(200):  # 200 x 1 KiB headers > 64 KiB
                sock.sendall(b"X-Padding: " + b"p" * 1024 + b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # closed while we were still sending: what is asked
        assert _closed_within(sock, 5) is not None
