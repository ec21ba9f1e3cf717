"""The store on a real SQLite file and a real PostgreSQL database: migrations,
the atomic claim, lease-checked outcomes."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import inspect

from reelserve.store.store import Store
from reelserve.store.tables import metadata
from reelserve.tasks.models import Dialect, NewTask, Result, Status


def new_task(engine: str = "synthetic", key: str = "k1") -> NewTask:
    return NewTask(
        id=str(uuid.uuid4()),
        api_key_id=key,
        dialect=Dialect.RUNWAY,
        operation="text_to_video",
        engine=engine,
        params={"prompt": "p"},
        request={"prompt": "p"},
    )


RESULT = Result("v", "media/t/v/video.mp4", "media/t/v/cover.png", 1280, 720, 120, 24)


async def test_migrations_create_exactly_the_declared_schema(store: Store) -> None:
    tables = await store.db.read(lambda c: set(inspect(c).get_table_names()))
    columns = await store.db.read(
        lambda c: {t: {col["name"] for col in inspect(c).get_columns(t)} for t in metadata.tables}
    )
    assert set(metadata.tables) <= tables
    for name, table in metadata.tables.items():
        assert columns[name] == {c.name for c in table.columns}, name


async def test_opening_twice_is_harmless(store: Store) -> None:
    await store.open()
    assert await store.tasks.get("nothing") is None


async def test_claim_takes_the_oldest_queued_task_first(store: Store) -> None:
    first = new_task()
    await store.tasks.insert(first)
    await store.tasks.insert(new_task())
    claimed = await store.tasks.claim("w1", {"synthetic"}, 30)
    assert claimed is not None and claimed.id == first.id
    assert claimed.status is Status.RUNNING and claimed.attempts == 1 and claimed.lease_token


async def test_claim_only_takes_tasks_for_the_workers_engines(store: Store) -> None:
    await store.tasks.insert(new_task(engine="wan"))
    assert await store.tasks.claim("w1", {"synthetic"}, 30) is None
    assert (await store.tasks.claim("w2", {"wan"}, 30)) is not None


async def test_concurrent_claims_never_hand_out_a_task_twice(store: Store) -> None:
    news = [new_task() for _ in range(30)]
    await asyncio.gather(*(store.tasks.insert(n) for n in news))
    ids = {n.id for n in news}

    async def claimer(name: str) -> list[str]:
        got = []
        while (task := await store.tasks.claim(name, {"synthetic"}, 30)) is not None:
            got.append(task.id)
        return got

    results = await asyncio.gather(*(claimer(f"w{i}") for i in range(6)))
    claimed = [t for r in results for t in r]
    assert sorted(claimed) == sorted(ids)


async def test_a_stale_workers_late_result_is_rejected_by_the_lease_token(store: Store) -> None:
    await store.tasks.insert(new_task())
    stale = await store.tasks.claim("old", {"synthetic"}, 0.05)
    assert stale is not None and stale.lease_token
    await asyncio.sleep(0.1)
    fresh = await store.tasks.claim("new", {"synthetic"}, 30)
    assert fresh is not None and fresh.id == stale.id and fresh.attempts == 2
    assert not await store.tasks.succeed(stale.id, stale.lease_token, RESULT)
    assert not await store.tasks.heartbeat(stale.id, stale.lease_token, 30, 0.5)
    assert await store.tasks.succeed(fresh.id, fresh.lease_token or "", RESULT)
    done = await store.tasks.get(stale.id)
    assert done is not None and done.status is Status.SUCCEEDED and done.result == RESULT
    # Once the outcome is written, no token can change it.
    assert not await store.tasks.fail(fresh.id, fresh.lease_token or "", 500, "late")


async def test_a_live_lease_keeps_the_task_from_other_workers(store: Store) -> None:
    await store.tasks.insert(new_task())
    held = await store.tasks.claim("a", {"synthetic"}, 0.3)
    assert held is not None
    for _ in range(3):
        await asyncio.sleep(0.15)
        assert await store.tasks.heartbeat(held.id, held.lease_token or "", 0.3, 0.2)
        assert await store.tasks.claim("b", {"synthetic"}, 30) is None
    task = await store.tasks.get(held.id)
    assert task is not None and task.progress == pytest.approx(0.2)


async def test_release_puts_the_task_back_in_the_queue(store: Store) -> None:
    await store.tasks.insert(new_task())
    held = await store.tasks.claim("a", {"synthetic"}, 30)
    assert held is not None
    assert await store.tasks.release(held.id, held.lease_token or "")
    again = await store.tasks.claim("b", {"synthetic"}, 30)
    assert again is not None and again.id == held.id and again.attempts == 2


async def test_queue_position_counts_the_tasks_ahead(store: Store) -> None:
    news = [new_task() for _ in range(3)]
    for n in news:
        await store.tasks.insert(n)
    tasks = [await store.tasks.get(n.id) for n in news]
    assert [await store.tasks.queue_position(t) for t in tasks if t] == [1, 2, 3]
    await store.tasks.claim("w", {"synthetic"}, 30)
    uncached = Store(store.db.url, read_cache_s=0)
    await uncached.open()
    assert await uncached.tasks.queue_position(tasks[2]) == 2  # type: ignore[arg-type]
    await uncached.close()


async def test_a_batch_with_one_bad_row_still_inserts_the_others(store: Store) -> None:
    good = [new_task() for _ in range(5)]
    dup = NewTask(**{**good[0].__dict__})  # same id: violates the unique constraint
    results = await asyncio.gather(
        *(store.tasks.insert(n) for n in [*good, dup]), return_exceptions=True
    )
    assert results[:5] == [None] * 5
    assert isinstance(results[5], Exception)
    for n in good:
        assert await store.tasks.get(n.id) is not None


async def test_a_read_after_a_write_through_this_process_is_fresh(store: Store) -> None:
    n = new_task()
    await store.tasks.insert(n)
    assert (await store.tasks.get(n.id)).status is Status.QUEUED  # type: ignore[union-attr]
    claimed = await store.tasks.claim("w", {"synthetic"}, 30)
    assert claimed is not None
    assert (await store.tasks.get(n.id)).status is Status.RUNNING  # type: ignore[union-attr]
    await store.tasks.succeed(n.id, claimed.lease_token or "", RESULT)
    assert (await store.tasks.get(n.id)).status is Status.SUCCEEDED  # type: ignore[union-attr]


async def test_a_stage_records_a_partial_result_and_its_delivery_in_one_write(
    store: Store,
) -> None:
    from reelserve.callbacks.models import NewDelivery
    from reelserve.tasks.models import Artifact

    new = new_task()
    await store.tasks.insert(new)
    claimed = await store.tasks.claim("w1", {"synthetic"}, 30)
    assert claimed is not None and claimed.lease_token
    sheet = Artifact("text", "sheet", "media/t/v/sheets.json", "application/json", data={"a": 1})
    partial = Result("v", artifacts=(sheet,))

    def delivery(task: object) -> NewDelivery:
        return NewDelivery.create(new.id, "k1", "https://example.com/cb", '{"x":1}', "text")

    assert await store.tasks.stage(new.id, claimed.lease_token, partial, delivery)
    staged = await store.tasks.get(new.id, fresh=True)
    assert staged is not None and staged.status is Status.RUNNING
    assert staged.result is not None and staged.result.of_role("sheet")[0].data == {"a": 1}
    ((recorded, _),) = await store.deliveries.for_task(new.id)
    assert recorded.stage == "text" and recorded.body == '{"x":1}'
    # A lost lease writes neither the stage nor its delivery.
    assert not await store.tasks.stage(new.id, "not-the-token", partial, delivery)
    assert len(await store.deliveries.for_task(new.id)) == 1
    # Children are found by their parent.
    child = NewTask(**{**new.__dict__, "id": str(uuid.uuid4()), "parent_id": new.id})
    await store.tasks.insert(child)
    assert [t.id for t in await store.tasks.children(new.id)] == [child.id]


async def test_personas_are_one_per_track(store: Store) -> None:
    from reelserve.store.personas import Persona, PersonaExists

    first = Persona("persona_1", "k1", "suno_t", "track-a", "Name", "Desc", 1.0)
    await store.personas.create(first)
    assert await store.personas.get("persona_1") == first
    assert await store.personas.for_track("track-a") == first
    with pytest.raises(PersonaExists):
        await store.personas.create(Persona("persona_2", "k1", "suno_t", "track-a", "N", "D", 2.0))
    assert await store.personas.get("persona_2") is None
