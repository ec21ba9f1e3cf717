"""Per-key limits: rate (429 + Retry-After, not queued), queue cap, concurrency, fair share."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from reelserve.errors import QueueFull, RateLimited
from reelserve.security.apikeys import display_prefix, generate_key, hash_key
from reelserve.settings import Settings
from reelserve.store.store import Store
from reelserve.store.tasks import Admission
from reelserve.tasks.models import Dialect, NewTask, Result, Status
from tests.databases import database_url
from tests.support import run_server

RESULT = Result("v", "media/t/v/video.mp4", "media/t/v/cover.png", 1280, 720, 120, 24)


@pytest.fixture
async def store(tmp_path: Path, backend: str) -> Store:
    with database_url(backend, tmp_path) as url:
        s = Store(url, read_cache_s=0)
        await s.open()
        yield s  # type: ignore[misc]
        await s.close()


async def make_key(store: Store, name: str, **limits: int) -> str:
    key = await store.keys.create(name, hash_key(name), name, **limits)
    return key.id


def task_of(key_id: str) -> NewTask:
    return NewTask(
        id=str(uuid.uuid4()),
        api_key_id=key_id,
        dialect=Dialect.RUNWAY,
        operation="text_to_video",
        engine="synthetic",
        params={},
        request={},
    )


async def test_the_rate_limit_refuses_the_task_after_the_limit_with_retry_after(
    store: Store,
) -> None:
    key = await make_key(store, "a", rate_limit=3)
    admission = Admission(key, rate_limit=3, max_queued=0)
    for _ in range(3):
        await store.tasks.insert(task_of(key), admission)
    refused = task_of(key)
    with pytest.raises(RateLimited) as caught:
        await store.tasks.insert(refused, admission)
    assert 1 <= int(caught.value.headers["Retry-After"]) <= 10
    assert await store.tasks.get(refused.id) is None, "a refused task is not queued"


async def test_the_rate_window_slides(store: Store) -> None:
    key = await make_key(store, "a", rate_limit=2)
    admission = Admission(key, rate_limit=2, max_queued=0, window_s=0.5)
    await store.tasks.insert(task_of(key), admission)
    await store.tasks.insert(task_of(key), admission)
    with pytest.raises(RateLimited):
        await store.tasks.insert(task_of(key), admission)
    await asyncio.sleep(0.6)
    await store.tasks.insert(task_of(key), admission)


async def test_fifty_concurrent_submits_never_pass_the_rate_limit(store: Store) -> None:
    key = await make_key(store, "a", rate_limit=10)
    admission = Admission(key, rate_limit=10, max_queued=0)
    results = await asyncio.gather(
        *(store.tasks.insert(task_of(key), admission) for _ in range(50)), return_exceptions=True
    )
    assert results.count(None) == 10
    assert all(isinstance(r, RateLimited) for r in results if r is not None)


async def test_the_queue_cap_refuses_with_the_concurrent_generations_message(store: Store) -> None:
    key = await make_key(store, "a", max_queued=2, rate_limit=0)
    admission = Admission(key, rate_limit=0, max_queued=2)
    await store.tasks.insert(task_of(key), admission)
    await store.tasks.insert(task_of(key), admission)
    with pytest.raises(QueueFull) as caught:
        await store.tasks.insert(task_of(key), admission)
    assert caught.value.code == 429
    assert caught.value.message == "Reached the limit for concurrent generations."
    # Once one starts, there is room again.
    await store.tasks.claim("w", {"synthetic"}, 30)
    await store.tasks.insert(task_of(key), admission)


async def test_a_key_at_its_concurrency_limit_waits_in_the_queue(store: Store) -> None:
    busy = await make_key(store, "busy", max_concurrent=1)
    first, second = task_of(busy), task_of(busy)
    await store.tasks.insert(first)
    await store.tasks.insert(second)
    running = await store.tasks.claim("w1", {"synthetic"}, 30)
    assert running is not None and running.id == first.id
    assert await store.tasks.claim("w2", {"synthetic"}, 30) is None, "second must wait"
    waiting = await store.tasks.get(second.id)
    assert waiting is not None and waiting.status is Status.QUEUED
    await store.tasks.succeed(first.id, running.lease_token or "", RESULT)
    nxt = await store.tasks.claim("w2", {"synthetic"}, 30)
    assert nxt is not None and nxt.id == second.id


async def test_claims_take_turns_between_keys(store: Store) -> None:
    a = await make_key(store, "a")
    b = await make_key(store, "b")
    a_tasks = [task_of(a) for _ in range(5)]
    for t in a_tasks:
        await store.tasks.insert(t)
    b_task = task_of(b)
    await store.tasks.insert(b_task)
    order = []
    while (claimed := await store.tasks.claim("w", {"synthetic"}, 30)) is not None:
        order.append(claimed.id)
        await store.tasks.succeed(claimed.id, claimed.lease_token or "", RESULT)
    assert order.index(b_task.id) <= 1
    assert [i for i in order if i != b_task.id] == [t.id for t in a_tasks], "FIFO within a key"


def test_an_api_request_over_the_rate_limit_is_429_with_retry_after(tmp_path: Path) -> None:
    with run_server(tmp_path / "data", run_worker=False) as server:

        async def limit() -> None:
            store = Store(server.settings.resolved_database_url)
            await store.open()
            await store.keys.update("alice", rate_limit=2)
            await store.close()

        asyncio.run(limit())
        time.sleep(2.1)  # the server's key cache
        client = server.client("alice")
        body = {"prompt": "p", "duration": 5, "quality": "720p", "aspectRatio": "16:9"}
        codes = [client.post("/api/v1/runway/generate", json=body) for _ in range(3)]
        assert [r.json()["code"] for r in codes] == [200, 200, 429]
        refused = codes[2]
        assert refused.status_code == 200  # KIE style: the envelope carries the code
        assert 1 <= int(refused.headers["retry-after"]) <= 10
        assert "Rate limit" in refused.json()["msg"]
        # Bob is not affected by Alice's limit.
        assert server.client("bob").post("/api/v1/runway/generate", json=body).json()["code"] == 200


def test_key_limits_are_set_and_shown_by_the_cli(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "REELSERVE_DATA_DIR": str(tmp_path / "data")}
    cli = [sys.executable, "-m", "reelserve", "keys"]
    subprocess.run(
        [
            *cli,
            "create",
            "--name",
            "n",
            "--rate-limit",
            "5",
            "--max-concurrent",
            "2",
            "--max-queued",
            "3",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    listing = subprocess.run(
        [*cli, "list"], env=env, check=True, capture_output=True, text=True
    ).stdout
    assert "rate/10s 5" in listing and "concurrent 2" in listing and "queued 3" in listing
    subprocess.run(
        [*cli, "update", "n", "--rate-limit", "0"], env=env, check=True, capture_output=True
    )
    listing = subprocess.run(
        [*cli, "list"], env=env, check=True, capture_output=True, text=True
    ).stdout
    assert "rate/10s unlimited" in listing
    bad = subprocess.run([*cli, "update", "n", "--rate-limit", "-1"], env=env, capture_output=True)
    assert bad.returncode != 0


def test_a_new_key_defaults_to_20_tasks_per_10_seconds(tmp_path: Path) -> None:
    async def run() -> int:
        store = Store(Settings(data_dir=tmp_path).resolved_database_url)
        await store.open()
        try:
            await store.keys.create("d", hash_key(generate_key()), display_prefix("rs_x"))
            (key,) = await store.keys.list()
            return key.rate_limit
        finally:
            await store.close()

    assert asyncio.run(run()) == 20


def test_one_keys_burst_does_not_starve_another_key(tmp_path: Path) -> None:
    with run_server(
        tmp_path / "data",
        engine_plugins={"fake": "reelserve.engines.fake:FakeEngine"},
        engines="fake",
    ) as server:
        alice, bob = server.client("alice"), server.client("bob")
        body = {"prompt": "burst", "duration": 5, "quality": "720p", "aspectRatio": "1:1"}
        a_ids = [
            alice.post("/api/v1/runway/generate", json=body).json()["data"]["taskId"]
            for _ in range(200)
        ]
        b_submitted = time.time()
        b_id = bob.post("/api/v1/runway/generate", json=body).json()["data"]["taskId"]
        assert server.wait(bob, b_id, 60)["state"] == "success"

        async def started() -> tuple[float, list[float]]:
            store = Store(server.settings.resolved_database_url, read_cache_s=0)
            await store.open()
            try:
                b = await store.tasks.get(b_id)
                assert b is not None and b.started_at is not None
                a = [await store.tasks.get(i) for i in a_ids]
                return b.started_at, [t.started_at for t in a if t and t.started_at]
            finally:
                await store.close()

        b_started, a_started = asyncio.run(started())
    overtaking = [s for s in a_started if b_submitted < s < b_started]
    assert len(overtaking) <= 3, f"{len(overtaking)} of A's tasks started before B's"
    assert len(a_started) < 200, "B did not wait for A's whole burst"
