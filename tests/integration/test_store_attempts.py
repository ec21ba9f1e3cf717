"""The attempt log on SQLite and PostgreSQL: lines in order, long errors cut."""

from __future__ import annotations

from reelserve.store.attempts import ERROR_MAX, AttemptRecord
from reelserve.store.store import Store


async def test_attempts_are_read_back_in_order_per_task(store: Store) -> None:
    first = AttemptRecord("t1", 1, "ltx-video", "w:1", 10.0, 12.5, "crashed", "x" * 5000)
    second = AttemptRecord("t1", 2, "synthetic", "w:2", 13.0, 14.0, "succeeded")
    await store.attempts.add(first)
    await store.attempts.add(AttemptRecord("t2", 1, "synthetic", "w:1", 1.0, 2.0, "failed", "bad"))
    await store.attempts.add(second)
    logged = await store.attempts.of_task("t1")
    assert [(a.attempt, a.engine, a.outcome) for a in logged] == [
        (1, "ltx-video", "crashed"),
        (2, "synthetic", "succeeded"),
    ]
    assert logged[0].error == "x" * ERROR_MAX and logged[1].error == ""
    assert logged[0].ended_at - logged[0].started_at == 2.5
    assert await store.attempts.of_task("none") == []
