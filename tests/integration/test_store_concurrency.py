"""The store shared by several processes (each a Store with its own connections):
claims under a key's concurrency limit, migrations at start, and on PostgreSQL
the NOTIFY that wakes workers and keeps read caches fresh."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from reelserve.callbacks.models import NewDelivery
from reelserve.store.postgres import DELIVERIES_DUE, TASKS_QUEUED
from reelserve.store.store import Store
from reelserve.tasks.models import Dialect, NewTask, Result, Status
from tests.databases import database_url

RESULT = Result("v", "media/t/v/video.mp4", "media/t/v/cover.png", 640, 360, 24, 24)


def new_task(key: str, engine: str = "synthetic") -> NewTask:
    return NewTask(
        id=str(uuid.uuid4()),
        api_key_id=key,
        dialect=Dialect.RUNWAY,
        operation="text_to_video",
        engine=engine,
        params={"prompt": "p"},
        request={"prompt": "p"},
    )


@pytest.fixture
def url(backend: str, tmp_path: Path) -> Iterator[str]:
    with database_url(backend, tmp_path) as u:
        yield u


@pytest.fixture
async def stores(url: str) -> AsyncIterator[list[Store]]:
    """Six stores on one database, as six worker processes would have."""
    made = [Store(url, read_cache_s=0) for _ in range(6)]
    for s in made:
        await s.open()
    yield made
    for s in made:
        await s.close()


async def test_claims_racing_from_many_processes_never_exceed_max_concurrent(
    stores: list[Store],
) -> None:
    first = stores[0]
    key = await first.keys.create("limited", "h" * 64, "p", max_concurrent=2)
    for _ in range(40):
        await first.tasks.insert(new_task(key.id))
    for _round in range(15):
        claimed = await asyncio.gather(
            *(s.tasks.claim(f"w{i}", {"synthetic"}, 30) for i, s in enumerate(stores))
        )
        got = [t for t in claimed if t is not None]
        assert len(got) == 2, [t.id for t in got]
        for task in got:
            assert await first.tasks.succeed(task.id, task.lease_token or "", RESULT)


async def test_an_unlimited_keys_tasks_are_each_claimed_once_across_processes(
    stores: list[Store],
) -> None:
    ids = set()
    for _ in range(60):
        n = new_task("free")
        ids.add(n.id)
        await stores[0].tasks.insert(n)

    async def drain(store: Store, name: str) -> list[str]:
        got = []
        while (task := await store.tasks.claim(name, {"synthetic"}, 30)) is not None:
            got.append(task.id)
        return got

    taken = await asyncio.gather(*(drain(s, f"w{i}") for i, s in enumerate(stores)))
    flat = [t for batch in taken for t in batch]
    assert sorted(flat) == sorted(ids)


def _head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from reelserve.store.migrate import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


async def test_processes_starting_together_migrate_a_fresh_database_once(url: str) -> None:
    together = [Store(url) for _ in range(4)]
    await asyncio.gather(*(s.open() for s in together))
    versions = await together[0].db.read(
        lambda c: [r[0] for r in c.execute(text("SELECT version_num FROM alembic_version"))]
    )
    assert versions == [_head_revision()]
    for s in together:
        await s.close()


@pytest.fixture
async def pg_pair(tmp_path: Path) -> AsyncIterator[tuple[Store, Store]]:
    """An API node's store (reads cached 60 s) and a worker's, on PostgreSQL: LISTEN/NOTIFY
    is PostgreSQL's (SQLite processes poll)."""
    with database_url("postgres", tmp_path) as url:
        api, worker = Store(url, read_cache_s=60), Store(url, read_cache_s=0)
        await api.open()
        await worker.open()
        yield api, worker
        await api.close()
        await worker.close()


async def _listening(store: Store, channels: list[str]) -> tuple[asyncio.Queue[str], object]:
    heard: asyncio.Queue[str] = asyncio.Queue()
    listener = store.listener({c: (lambda p, c=c: heard.put_nowait(f"{c}:{p}")) for c in channels})
    assert listener is not None
    running = asyncio.create_task(listener.run())
    await asyncio.wait_for(listener.connected.wait(), 10)
    while not heard.empty():  # the wake-up every (re)connect makes
        heard.get_nowait()
    return heard, (listener, running)


async def _close(handle: object) -> None:
    listener, running = handle  # type: ignore[misc]
    listener.stop()
    await asyncio.wait_for(running, 10)


async def test_a_task_queued_by_another_process_is_announced_by_engine_at_commit(
    pg_pair: tuple[Store, Store],
) -> None:
    listening, other = pg_pair
    heard, handle = await _listening(listening, [TASKS_QUEUED])
    await other.tasks.insert(new_task("k", engine="wan"))
    assert await asyncio.wait_for(heard.get(), 5) == f"{TASKS_QUEUED}:wan"
    await _close(handle)


async def test_a_delivery_queued_by_another_process_wakes_delivery_loops(
    pg_pair: tuple[Store, Store],
) -> None:
    listening, other = pg_pair
    heard, handle = await _listening(listening, [DELIVERIES_DUE])
    new = NewDelivery(
        id=uuid.uuid4().hex,
        webhook_id=uuid.uuid4().hex,
        task_id="t",
        api_key_id="k",
        url="https://example.com/cb",
        body="{}",
    )
    await other.deliveries.insert(new)
    assert await asyncio.wait_for(heard.get(), 5) == f"{DELIVERIES_DUE}:"
    await _close(handle)


async def test_an_api_nodes_cached_read_follows_a_workers_change_at_once(
    pg_pair: tuple[Store, Store],
) -> None:
    api, worker = pg_pair
    heard, handle = await _listening(api, [])
    n = new_task("k")
    await api.tasks.insert(n)
    assert (await api.tasks.get(n.id)).status is Status.QUEUED  # type: ignore[union-attr]
    claimed = await worker.tasks.claim("w", {"synthetic"}, 30)
    assert claimed is not None and claimed.id == n.id
    # The API node caches reads for 60 s; the claim's NOTIFY drops its entry.
    deadline = asyncio.get_running_loop().time() + 5
    while (await api.tasks.get(n.id)).status is not Status.RUNNING:  # type: ignore[union-attr]
        assert asyncio.get_running_loop().time() < deadline, "the cache was not invalidated"
        await asyncio.sleep(0.02)
    await worker.tasks.succeed(n.id, claimed.lease_token or "", RESULT)
    deadline = asyncio.get_running_loop().time() + 5
    while (await api.tasks.get(n.id)).status is not Status.SUCCEEDED:  # type: ignore[union-attr]
        assert asyncio.get_running_loop().time() < deadline, "the cache was not invalidated"
        await asyncio.sleep(0.02)
    await _close(handle)
    del heard
