"""Crash recovery with real processes: SIGKILL mid-run, restart, nothing lost."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reelserve.media.decode import probe
from reelserve.settings import Settings
from reelserve.store.store import Store
from tests.support import _create_keys

REPO = Path(__file__).resolve().parents[2]


class ServerProcess:
    def __init__(self, data_dir: Path, **env: str) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "REELSERVE_DATA_DIR": str(data_dir),
            "REELSERVE_PUBLIC_URL": self.base,
            "REELSERVE_WORKER_POLL_S": "0.2",
            "REELSERVE_X264_PRESET": "ultrafast",
            **env,
        }
        self.log = data_dir.parent / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "reelserve", "serve", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)  # reaped, so its pid is really gone

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def make_key(data_dir: Path) -> str:
    return asyncio.run(_create_keys(Settings(data_dir=data_dir), ["crash"]))["crash"]


def attempts(data_dir: Path, task_ids: list[str]) -> dict[str, int]:
    async def read() -> dict[str, int]:
        store = Store(Settings(data_dir=data_dir).resolved_database_url)
        await store.open()
        try:
            return {t: (await store.tasks.get(t)).attempts for t in task_ids}  # type: ignore[union-attr]
        finally:
            await store.close()

    return asyncio.run(read())


@pytest.fixture
def server_factory(data_dir: Path) -> Iterator[list[ServerProcess]]:
    made: list[ServerProcess] = []
    yield made
    for server in made:
        server.stop()


def states(client: httpx.Client, ids: list[str]) -> dict[str, dict[str, object]]:
    return {
        t: client.get("/api/v1/runway/record-detail", params={"taskId": t}).json()["data"]
        for t in ids
    }


def test_sigkill_with_tasks_queued_and_generating_loses_nothing(
    data_dir: Path, server_factory: list[ServerProcess], tmp_path: Path
) -> None:
    key = make_key(data_dir)
    engine_log = tmp_path / "engine.log"
    server = ServerProcess(
        data_dir,
        REELSERVE_ENGINE_PLUGINS="slow=tests.engines_for_tests:SlowSyntheticEngine",
        REELSERVE_ENGINES="slow",
        REELSERVE_TEST_ENGINE_LOG=str(engine_log),
    )
    server_factory.append(server)
    server.start()
    client = httpx.Client(
        base_url=server.base, headers={"Authorization": f"Bearer {key}"}, timeout=30
    )
    body = {"duration": 5, "quality": "720p", "aspectRatio": "16:9"}
    ids = [
        client.post("/api/v1/runway/generate", json={"prompt": f"crash test {i}", **body}).json()[
            "data"
        ]["taskId"]
        for i in range(4)
    ]
    deadline = time.monotonic() + 60
    while True:
        now = states(client, ids)
        running = [t for t, d in now.items() if d["state"] == "generating"]
        if running:
            break
        assert time.monotonic() < deadline, now
        time.sleep(0.05)
    server.kill()
    interrupted = running[0]
    queued = [t for t, d in now.items() if d["state"] == "queueing"]
    assert queued, "some tasks should still be queued when the server dies"

    server.start()
    deadline = time.monotonic() + 180
    while True:
        now = states(client, ids)
        if all(d["state"] in ("success", "fail") for d in now.values()):
            break
        assert time.monotonic() < deadline, now
        time.sleep(0.2)
    assert {t: d["state"] for t, d in now.items()} == dict.fromkeys(ids, "success")
    for t, d in now.items():
        video = client.get(d["videoInfo"]["videoUrl"])  # type: ignore[index]
        path = tmp_path / f"{t}.mp4"
        path.write_bytes(video.content)
        assert probe(path).frame_count == 120
    tries = attempts(data_dir, ids)
    assert tries[interrupted] == 2, "the interrupted task ran again"
    assert all(tries[t] == 1 for t in queued), "queued tasks ran once"
    # The engine's own log: only the interrupted task was run twice.
    runs = [line.split(" ", 2)[2] for line in engine_log.read_text().splitlines()]
    prompts = {t: now[t]["generateParam"]["prompt"] for t in ids}  # type: ignore[index]
    assert runs.count(prompts[interrupted]) == 2
    assert all(runs.count(prompts[t]) == 1 for t in ids if t != interrupted)
    client.close()


def test_an_engine_that_always_dies_fails_the_task_only_after_max_attempts(
    data_dir: Path, server_factory: list[ServerProcess], tmp_path: Path
) -> None:
    engine_log = tmp_path / "engine.log"
    key = make_key(data_dir)
    server = ServerProcess(
        data_dir,
        REELSERVE_ENGINE_PLUGINS="dying=tests.engines_for_tests:DyingEngine",
        REELSERVE_ENGINES="dying",
        REELSERVE_MAX_ATTEMPTS="3",
        REELSERVE_TEST_ENGINE_LOG=str(engine_log),
    )
    server_factory.append(server)
    server.start()
    client = httpx.Client(
        base_url=server.base, headers={"Authorization": f"Bearer {key}"}, timeout=30
    )
    task = client.post(
        "/api/v1/runway/generate",
        json={"prompt": "doomed", "duration": 5, "quality": "720p", "aspectRatio": "1:1"},
    ).json()["data"]["taskId"]
    deaths = 0
    while True:
        assert server.proc is not None
        try:
            server.proc.wait(timeout=60)  # the engine takes the process down with it
        except subprocess.TimeoutExpired:
            break
        deaths += 1
        assert deaths <= 3, "the task must not be tried a fourth time"
        server.start()
        record = client.get("/api/v1/runway/record-detail", params={"taskId": task}).json()["data"]
        if record["state"] == "fail":
            break
        # Not failed yet: it must have been re-queued for another attempt.
        assert record["state"] in ("queueing", "generating"), record
    record = client.get("/api/v1/runway/record-detail", params={"taskId": task}).json()["data"]
    assert deaths == 3
    assert record["state"] == "fail" and record["failCode"] == 500
    assert record["failMsg"].startswith("Generation failed, please try again later")
    assert "3 attempts" in record["failMsg"]
    assert len(engine_log.read_text().splitlines()) == 3
    client.close()
