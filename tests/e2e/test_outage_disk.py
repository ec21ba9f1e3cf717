"""The embedded server (`reelserve serve`: SQLite, local media, in-process worker) with its
data directory on a small tmpfs that fills up while tasks render: media writes (and the
database's, when they need room) fail; once space is freed, the tasks in hand and a new
one succeed without a restart, and the in-process worker was never left dead.

Mounting needs root. Elsewhere the test is skipped: its twin with the fault injected at
the store boundary is tests/integration/test_outages.py (the 503 test).
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cluster import Cluster
from tests.e2e.test_scale_out import engine_runs

SHAPE = {"duration": 5, "quality": "720p", "aspectRatio": "16:9"}
FULL_S = 8


@contextlib.contextmanager
def small_tmpfs(path: Path, size_mb: int) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (the store-boundary twin runs everywhere)")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        message = f"cannot mount a tmpfs here: {done.stderr.strip()}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(path: Path) -> int:
    """Write `path` until the disk is full; the bytes written."""
    written = 0
    with path.open("wb", buffering=0) as fh:
        for chunk in (1 << 20, 1 << 12, 1):
            try:
                while True:
                    written += fh.write(b"\0" * chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
    return written


@pytest.mark.timeout(240)
def test_a_full_disk_under_the_embedded_server_passes_without_a_restart(tmp_path: Path) -> None:
    engine_log = tmp_path / "engine.log"
    with small_tmpfs(tmp_path / "disk", 48) as disk:
        data = disk / "data"
        url = f"sqlite+aiosqlite:///{(data / 'reelserve.db').resolve()}"
        # The logs stay off the full disk: they are the evidence.
        with Cluster(
            tmp_path / "run",
            url,
            REELSERVE_DATA_DIR=str(data),
            REELSERVE_ENGINE_PLUGINS="slow=tests.engines_for_tests:SlowSyntheticEngine",
            REELSERVE_ENGINES="slow",
            REELSERVE_TEST_ENGINE_LOG=str(engine_log),
            REELSERVE_LEASE_S="6",
            REELSERVE_WORKER_POLL_S="0.5",
            REELSERVE_WORKER_HEARTBEAT_S="1",
        ) as cluster:
            key = cluster.create_key("k")
            api = cluster.start_api(worker=True)
            client = httpx.Client(
                base_url=cluster.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30
            )

            def submit(prompt: str) -> httpx.Response:
                return client.post("/api/v1/runway/generate", json={"prompt": prompt, **SHAPE})

            ids = [submit(f"disk task {i}").json()["data"]["taskId"] for i in range(2)]
            deadline = time.monotonic() + 60
            while not engine_runs(engine_log):
                assert time.monotonic() < deadline, "the worker never started rendering"
                time.sleep(0.05)
            filler = disk / "filler"
            filled = fill(filler)
            try:
                full_since = time.monotonic()
                refused = [submit(f"refused {i}").json()["code"] for i in range(5)]
                while time.monotonic() - full_since < FULL_S:
                    assert api.alive(), api.tail()
                    time.sleep(0.5)
                polled = client.get(
                    "/api/v1/runway/record-detail", params={"taskId": ids[0]}
                ).json()
            finally:
                filler.unlink()
            accepted = [t for t, code in zip(range(5), refused, strict=True) if code == 200]

            later = submit("after the disk was freed").json()
            assert later["code"] == 200, later
            ids.append(later["data"]["taskId"])
            deadline = time.monotonic() + 120
            while True:
                states = [
                    client.get("/api/v1/runway/record-detail", params={"taskId": t}).json()["data"][
                        "state"
                    ]
                    for t in ids
                ]
                assert "fail" not in states, states
                if states == ["success"] * len(ids):
                    break
                assert time.monotonic() < deadline, states
                time.sleep(0.3)
            workers = cluster.run_cli("workers")
            api_log = api.log.read_text()
            client.close()

    assert filled > 1 << 20
    assert set(refused) <= {200, 503}, refused  # accepted, or refused as unavailable: no 500
    assert polled["code"] == 200  # reads go on while the disk is full
    # One line as each outage begins and one as it ends, however many writes failed.
    assert api_log.count("media storage is unavailable") == 1, api_log[-3000:]
    assert api_log.count("media storage is available again") == 1, api_log[-3000:]
    database_down = api_log.count("the database is unavailable")
    assert database_down <= 1 and api_log.count("the database is available again") == database_down
    assert "in-process worker" not in api_log, "the worker never stopped"
    assert "Traceback" not in api_log, api_log[-3000:]
    assert " alive" in workers and " lost" not in workers, workers
    print(f"submits while full: {refused}; accepted {len(accepted)}")
