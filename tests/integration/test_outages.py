"""Outages on a real in-process server, the fault injected at the store's call boundary
(the SQLite backend, the blob store): storage errors never spend an engine attempt, the
API answers 503 with one log line per outage, the worker survives a task that raises and
is restarted if it stops, JSON bodies are bounded.

The real parts (a stopped PostgreSQL, a stopped SeaweedFS, a full disk) are in
tests/e2e/test_outage_*.py.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reelserve.blobs.memory import MemoryBlobStore
from reelserve.security.apikeys import display_prefix, generate_key, hash_key
from reelserve.store.store import Store
from reelserve.worker.loop import Worker
from tests.support import RunningServer, run_server, run_server_with

BODY = {"prompt": "an outage", "duration": 5, "quality": "720p", "aspectRatio": "16:9"}
LOGGED = {"engine_plugins": {"logged": "tests.engines_for_tests:LoggedSyntheticEngine"}}


@pytest.fixture
def engine_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "engine.log"
    monkeypatch.setenv("REELSERVE_TEST_ENGINE_LOG", str(path))
    return path


def runs(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def add_key(server: RunningServer, name: str, credits: int | None) -> None:
    async def run() -> str:
        store = Store(server.settings.resolved_database_url)
        await store.open()
        try:
            key = generate_key()
            await store.keys.create(
                name, hash_key(key), display_prefix(key), rate_limit=0, credits=credits
            )
            return key
        finally:
            await store.close()

    server.keys[name] = asyncio.run(run())


def task_row(server: RunningServer, task_id: str) -> Any:
    async def run() -> Any:
        store = Store(server.settings.resolved_database_url, read_cache_s=0)
        await store.open()
        try:
            return await store.tasks.get(task_id, fresh=True)
        finally:
            await store.close()

    return asyncio.run(run())


def submit(client: httpx.Client, body: dict[str, Any] = BODY) -> str:
    answer = client.post("/api/v1/runway/generate", json=body).json()
    assert answer["code"] == 200, answer
    return str(answer["data"]["taskId"])


def test_media_storage_down_past_the_window_fails_the_task_naming_storage_and_refunds_it(
    tmp_path: Path, engine_log: Path
) -> None:
    blobs = MemoryBlobStore()
    blobs.unavailable = "S3 answered 503 Slow Down"
    with run_server_with(
        tmp_path / "data", blobs=blobs, storage_retry_s=1.5, engines="logged", **LOGGED
    ) as server:
        add_key(server, "paying", 50)
        client = server.client("paying")
        task_id = submit(client)
        started = time.monotonic()
        record = server.wait(client, task_id, timeout=60)
        waited = time.monotonic() - started
        balance = client.get("/api/v1/chat/credit").json()["data"]
    assert record["state"] == "fail", record
    assert record["failCode"] == 500
    assert record["failMsg"].startswith("could not store the result: media/"), record
    assert "S3 answered 503 Slow Down" in record["failMsg"]
    assert waited >= 1.5  # the window was waited out
    assert balance == 50, "the task's 12 credits were given back"
    assert len(runs(engine_log)) == 1, "the engine ran once: storage retries spend no attempt"


def test_media_storage_back_within_the_window_stores_the_rendered_result_without_a_new_render(
    tmp_path: Path, engine_log: Path
) -> None:
    blobs = MemoryBlobStore()
    blobs.unavailable = "connection refused"
    with run_server_with(
        tmp_path / "data", blobs=blobs, lease_s=3, engines="logged", **LOGGED
    ) as server:
        client = server.client()
        task_id = submit(client)
        deadline = time.monotonic() + 30
        while not runs(engine_log):
            assert time.monotonic() < deadline, "the engine never ran"
            time.sleep(0.05)
        time.sleep(4)  # past a lease: the heartbeat keeps it while storage is retried
        blobs.unavailable = None
        record = server.wait(client, task_id, timeout=60)
        assert record["state"] == "success", record
        row = task_row(server, task_id)
        video = client.get(record["videoInfo"]["videoUrl"])
    assert row.attempts == 1
    assert len(runs(engine_log)) == 1
    assert video.status_code == 200 and len(video.content) > 1000


class _Faulty:
    """Makes the SQLite backend fail as a full disk does, until `clear()`."""

    def __init__(self, server: RunningServer) -> None:
        self.backend = server.app.state.store.db._sqlite
        self._read, self._write = self.backend.read, self.backend.write

    def _error(self) -> sqlite3.OperationalError:
        error = sqlite3.OperationalError("database or disk is full")
        error.sqlite_errorcode = 13  # type: ignore[attr-defined]
        return error

    def start(self) -> None:
        def read(fn: Any) -> Any:
            raise self._error()

        async def write(fn: Any) -> Any:
            raise self._error()

        self.backend.read, self.backend.write = read, write

    def clear(self) -> None:
        self.backend.read, self.backend.write = self._read, self._write


@pytest.fixture
def rest_server(tmp_path: Path) -> Iterator[RunningServer]:
    with run_server(tmp_path / "data", http_status="rest") as server:
        yield server


def test_a_database_outage_answers_503_with_retry_after_and_logs_one_line_for_it(
    rest_server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    client = rest_server.client()
    task_id = submit(client)
    assert rest_server.wait(client, task_id)["state"] == "success"
    fault = _Faulty(rest_server)
    caplog.set_level(logging.INFO)
    fault.start()
    try:
        time.sleep(2.1)  # past the API key cache: every request needs the database
        answers = [
            client.get("/api/v1/runway/record-detail", params={"taskId": task_id})
            for _ in range(10)
        ]
        answers += [client.post("/api/v1/runway/generate", json=BODY) for _ in range(10)]
        ready = client.get("/readyz")
    finally:
        fault.clear()
    assert {a.status_code for a in answers} == {503}
    assert {a.json()["code"] for a in answers} == {503}
    assert {a.json()["msg"] for a in answers} == {"service temporarily unavailable, try again"}
    assert {a.headers["retry-after"] for a in answers} == {"5"}
    assert ready.status_code == 503
    assert ready.json()["database"].startswith("unavailable: the disk is full")
    assert ready.json()["storage"] == "ok"

    deadline = time.monotonic() + 10
    while not any("available again" in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline, "the recovery was never logged"
        time.sleep(0.1)
    assert client.get("/readyz").status_code == 200
    outage_lines = [r.getMessage() for r in caplog.records if r.name == "reelserve.outages"]
    assert len(outage_lines) == 2, outage_lines
    assert outage_lines[0].startswith("the database is unavailable (the disk is full")
    assert "20 request(s) answered 503" in outage_lines[1]
    assert not [r for r in caplog.records if r.exc_info], "no traceback for an outage"
    # And it works again, without a restart.
    assert rest_server.wait(client, submit(client))["state"] == "success"


def test_the_worker_goes_on_after_one_task_raises_and_logs_it_once_with_its_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    original = Worker._attempt
    broken: list[str] = []

    async def attempt(self: Worker, task: Any, *args: Any) -> None:
        if not broken:
            broken.append(task.id)
            raise RuntimeError("a bug in the outcome path")
        await original(self, task, *args)

    monkeypatch.setattr(Worker, "_attempt", attempt)
    caplog.set_level(logging.INFO, logger="reelserve.worker")
    with run_server(tmp_path / "data", lease_s=2) as server:
        client = server.client()
        first, second = submit(client), submit(client)
        assert server.wait(client, second)["state"] == "success"
        # The first one's lease lapses and its next attempt succeeds.
        assert server.wait(client, first)["state"] == "success"
        assert task_row(server, first).attempts == 2
    assert broken == [first]
    logged = [r for r in caplog.records if first in r.getMessage() and r.exc_info]
    assert len(logged) == 1
    assert logged[0].getMessage() == f"task {first}: processing failed; the worker goes on"


def test_the_in_process_worker_is_restarted_when_it_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    original = Worker.run
    starts: list[float] = []

    async def run(self: Worker, slots: int = 1) -> None:
        starts.append(time.monotonic())
        if len(starts) == 1:
            raise RuntimeError("the worker loop died")
        await original(self, slots)

    monkeypatch.setattr(Worker, "run", run)
    caplog.set_level(logging.INFO, logger="reelserve.worker")
    with run_server(tmp_path / "data") as server:
        client = server.client()
        assert server.wait(client, submit(client), timeout=60)["state"] == "success"
        assert server.app.state.worker.alive
    assert len(starts) == 2
    assert any(
        r.getMessage() == "the in-process worker crashed; restarting it" for r in caplog.records
    )


def test_a_result_unrecorded_when_the_lease_lapsed_is_left_to_the_lease_expiry_media_deleted(
    tmp_path: Path,
    engine_log: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from reelserve.errors import DatabaseUnavailable
    from reelserve.store.tasks import TaskStore

    down = threading.Event()
    for name in ("succeed", "heartbeat"):
        original = getattr(TaskStore, name)

        def patched(self: TaskStore, *args: Any, _original: Any = original, **kw: Any) -> Any:
            async def call() -> Any:
                if down.is_set():
                    raise DatabaseUnavailable("connection refused")
                return await _original(self, *args, **kw)

            return call()

        monkeypatch.setattr(TaskStore, name, patched)
    caplog.set_level(logging.INFO, logger="reelserve.worker")
    with run_server(tmp_path / "data", lease_s=2, engines="logged", **LOGGED) as server:
        client = server.client()
        down.set()  # the first attempt can neither beat nor record its result
        task_id = submit(client)
        deadline = time.monotonic() + 60
        while not any("before its lease lapsed" in r.getMessage() for r in caplog.records):
            assert time.monotonic() < deadline, "the worker never gave up on the write"
            time.sleep(0.05)
        down.clear()
        record = server.wait(client, task_id, timeout=60)
        assert record["state"] == "success", record
        row = task_row(server, task_id)
        media = server.settings.data_dir / "blobs" / "media" / task_id
        deadline = time.monotonic() + 10
        while len(list(media.iterdir())) > 1:  # the unrecorded attempt's media goes
            assert time.monotonic() < deadline, list(media.iterdir())
            time.sleep(0.1)
    assert row.attempts == 2
    assert len(runs(engine_log)) == 2
    assert [p.name for p in media.iterdir()] == [row.result.video_id]


@pytest.fixture(scope="module")
def small_bodies(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with run_server(
        tmp_path_factory.mktemp("bodies"), max_json_bytes=4096, upload_max_bytes=1000
    ) as server:
        yield server


def test_a_json_body_over_the_limit_is_refused_with_413_whether_its_length_is_declared_or_not(
    small_bodies: RunningServer,
) -> None:
    client = small_bodies.client()
    big = {**BODY, "prompt": "x" * 5000}
    declared = client.post("/api/v1/runway/generate", json=big).json()
    assert declared["code"] == 413, declared
    assert declared["msg"] == (
        "The request body is larger than the limit of 4096 bytes (REELSERVE_MAX_JSON_BYTES)"
    )
    raw = httpx.Request("POST", "/", json=big).content

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(raw), 1000):
            yield raw[i : i + 1000]

    chunked = client.post("/api/v1/runway/generate", content=chunks())
    assert "content-length" not in chunked.request.headers
    assert chunked.json()["code"] == 413
    others = ("/api/v1/aleph/generate", "/api/v1/jobs/createTask", "/api/v1/common/download-url")
    for path in others:
        assert client.post(path, json=big).json()["code"] == 413, path
    # Under the limit, the body is read as always (here: the prompt is too long, 422).
    under = client.post("/api/v1/runway/generate", json={**BODY, "prompt": "x" * 3000}).json()
    assert under["code"] == 422 and under["msg"].startswith("prompt"), under


def test_the_default_json_limit_holds_two_data_uris_of_the_source_limit() -> None:
    from reelserve.settings import Settings

    settings = Settings(source_max_bytes=10 * 1024 * 1024)
    assert settings.json_body_limit >= 1024 * 1024 + 2 * (10 * 1024 * 1024 * 4 // 3)
    assert settings.json_body_limit < 30 * 1024 * 1024
    assert Settings(max_json_bytes=2048).json_body_limit == 2048


def test_a_base64_upload_over_its_body_bound_names_the_upload_limit(
    small_bodies: RunningServer,
) -> None:
    body = {"base64Data": "A" * 200_000, "uploadPath": "big", "fileName": "b.bin"}
    answer = small_bodies.client().post("/api/file-base64-upload", json=body).json()
    assert answer["code"] == 422, answer
    assert answer["msg"] == "base64Data: decodes to more than the upload limit of 1000 bytes"


def test_readyz_reports_each_dependency(small_bodies: RunningServer) -> None:
    answer = httpx.get(small_bodies.base_url + "/readyz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ready", "database": "ok", "storage": "ok", "engines": "ok"}
