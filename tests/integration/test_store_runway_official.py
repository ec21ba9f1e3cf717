"""What the Runway dialect asks of the store, on SQLite and PostgreSQL: a key's running
count (THROTTLED), its tasks of a day (organization usage), one-time uploads (issue 18)."""

from __future__ import annotations

import time
from dataclasses import replace

from reelserve.store.store import Store
from reelserve.store.uploads import Upload
from reelserve.tasks.models import Dialect
from tests.integration.test_store import new_task


async def test_a_keys_running_count_counts_live_leases_of_that_key_only(store: Store) -> None:
    for key in ("k1", "k1", "k2"):
        await store.tasks.insert(new_task(key=key))
    assert await store.tasks.running_of_key("k1") == 0
    first = await store.tasks.claim("w1", {"synthetic"}, 30)
    assert first is not None and first.api_key_id == "k1"
    await store.tasks.claim("w1", {"synthetic"}, 30)
    await store.tasks.claim("w1", {"synthetic"}, 30)
    assert await store.tasks.running_of_key("k1") == 2
    assert await store.tasks.running_of_key("k2") == 1
    assert await store.tasks.running_of_key("nobody") == 0


async def test_tasks_created_since_are_the_keys_own_of_that_dialect(store: Store) -> None:
    mine = replace(new_task(key="k1"), dialect=Dialect.RUNWAY_OFFICIAL)
    await store.tasks.insert(mine)
    await store.tasks.insert(new_task(key="k1"))  # another dialect
    await store.tasks.insert(replace(new_task(key="k2"), dialect=Dialect.RUNWAY_OFFICIAL))
    since = time.time() - 60
    found = await store.tasks.created_since("k1", Dialect.RUNWAY_OFFICIAL.value, since)
    assert [t.id for t in found] == [mine.id]
    assert await store.tasks.created_since("k1", "runway_official", time.time() + 60) == []


async def test_an_upload_is_recorded_once_under_its_id(store: Store) -> None:
    now = time.time()
    upload = Upload("u" * 32, "k1", "uploads/k1/runway/a/x.png", 10, "image/png", now, now + 60)
    assert await store.uploads.record_once(upload)
    again = replace(upload, blob_key="uploads/k1/runway/b/x.png")
    assert not await store.uploads.record_once(again)
    found = await store.uploads.by_id(upload.id)
    assert found is not None and found.blob_key == upload.blob_key
    assert await store.uploads.by_id("missing") is None
