"""Upstream hand-offs, fallback re-routing and per-engine caps in the store, on SQLite and
PostgreSQL (issue 15)."""

from __future__ import annotations

from reelserve.store.store import Store
from reelserve.tasks.models import Status
from tests.integration.test_store import RESULT, new_task

ENGINE = "upstream:kie"


async def test_a_hand_off_is_noted_under_the_lease_and_its_first_id_wins(store: Store) -> None:
    task = new_task(ENGINE)
    await store.tasks.insert(task)
    claimed = await store.tasks.claim("w1", {ENGINE}, 30)
    assert claimed is not None and claimed.lease_token
    assert await store.handoffs.submitting(task.id, "not-the-token", ENGINE) is None
    noted = await store.handoffs.submitting(task.id, claimed.lease_token, ENGINE)
    assert noted is not None and noted.state == "submitting" and noted.submissions == 1
    again = await store.handoffs.submitting(task.id, claimed.lease_token, ENGINE)
    assert again is not None and again.submissions == 2 and not again.accepted
    assert await store.handoffs.accepted(task.id, ENGINE, "up-1", {}) == "up-1"
    assert await store.handoffs.accepted(task.id, ENGINE, "up-2", {}) == "up-1"
    found = await store.handoffs.get(task.id, ENGINE)
    assert found is not None and found.accepted and found.upstream_id == "up-1"
    # Once accepted, a later submission returns it instead of counting another send.
    after = await store.handoffs.submitting(task.id, claimed.lease_token, ENGINE)
    assert after is not None and after.accepted and after.submissions == 2
    await store.handoffs.note(task.id, ENGINE, {"tracks": ["a", "b"]})
    [listed] = await store.handoffs.of_task(task.id)
    assert listed.detail == {"tracks": ["a", "b"]}


async def test_reroute_queues_the_task_for_the_next_engine_with_a_fresh_budget(
    store: Store,
) -> None:
    task = new_task(ENGINE)
    await store.tasks.insert(task)
    claimed = await store.tasks.claim("w1", {ENGINE}, 30)
    assert claimed is not None and claimed.lease_token
    params = {**claimed.params, "fallbacks": [], "tried": [{"engine": ENGINE, "reason": "503"}]}
    assert not await store.tasks.reroute(task.id, "stale", "synthetic", params)
    assert await store.tasks.reroute(task.id, claimed.lease_token, "synthetic", params)
    moved = await store.tasks.get(task.id, fresh=True)
    assert moved is not None
    assert (moved.status, moved.engine, moved.attempts) == (Status.QUEUED, "synthetic", 0)
    assert moved.params["tried"] == [{"engine": ENGINE, "reason": "503"}]
    assert await store.tasks.claim("w2", {ENGINE}, 30) is None
    again = await store.tasks.claim("w2", {"synthetic"}, 30)
    assert again is not None and again.id == task.id


async def test_an_engine_at_its_cap_has_its_tasks_left_queued(store: Store) -> None:
    for _ in range(3):
        await store.tasks.insert(new_task(ENGINE))
    local = new_task("synthetic")
    await store.tasks.insert(local)
    caps = {ENGINE: 2}
    first = await store.tasks.claim("w", {ENGINE, "synthetic"}, 30, caps=caps)
    second = await store.tasks.claim("w", {ENGINE, "synthetic"}, 30, caps=caps)
    assert first is not None and second is not None
    assert {first.engine, second.engine} == {ENGINE}
    third = await store.tasks.claim("w", {ENGINE, "synthetic"}, 30, caps=caps)
    assert third is not None and third.id == local.id  # the capped engine's task waits
    assert await store.tasks.claim("w", {ENGINE, "synthetic"}, 30, caps=caps) is None
    assert first.lease_token
    assert await store.tasks.succeed(first.id, first.lease_token, RESULT)
    fourth = await store.tasks.claim("w", {ENGINE}, 30, caps=caps)
    assert fourth is not None and fourth.engine == ENGINE
