"""Retention: deletes media past its retention period and marks the task expired.

Blobs are deleted before the task is marked, so a crash in between only
means the next sweep deletes nothing and marks it; a task never reports
`expireFlag: 0` for media that is gone for good, nor 1 for media still served.

An outage (the database, media storage) ends a sweep, not the loop: the
next one comes sooner, with backoff up to the interval, and redoes the work
safely (deleting what is gone already deletes nothing).
"""

from __future__ import annotations

import asyncio
import logging
import time

from reelserve.blobs.base import BlobStore
from reelserve.errors import DependencyUnavailable
from reelserve.retry import backoff
from reelserve.settings import Settings
from reelserve.store.store import Store

log = logging.getLogger("reelserve.janitor")


class Janitor:
    def __init__(self, settings: Settings, store: Store, blobs: BlobStore) -> None:
        self.settings = settings
        self.store = store
        self.blobs = blobs

    async def sweep(self, now: float | None = None) -> int:
        """One pass; returns how many tasks had their media deleted."""
        cutoff = (now if now is not None else time.time()) - self.settings.media_retention_s()
        total = 0
        while True:
            due = await self.store.tasks.media_due(cutoff)
            if not due:
                return total
            for task in due:
                await self.blobs.delete_prefix(f"media/{task.id}")
                await self.blobs.delete_prefix(f"inputs/{task.id}")
            await self.store.tasks.mark_media_expired([t.id for t in due])
            total += len(due)
            log.info("retention: deleted the media of %d task(s)", len(due))

    async def sweep_uploads(self, now: float | None = None) -> int:
        """Delete uploads past `upload_retention_hours`: blob first, then the row."""
        now = now if now is not None else time.time()
        total = 0
        while True:
            due = await self.store.uploads.expired(now)
            if not due:
                return total
            for upload in due:
                # A re-upload to the same name replaces the row (new id) and the
                # blob; only delete the blob while it is still the expired one's.
                current = await self.store.uploads.by_key(upload.blob_key)
                if current is not None and current.id == upload.id:
                    await self.blobs.delete(upload.blob_key)
                await self.store.uploads.remove(upload.id)
            total += len(due)
            log.info("retention: deleted %d expired upload(s)", len(due))

    async def run(self) -> None:
        interval = self.settings.janitor_interval_s
        failures = 0
        while True:
            wait = interval
            try:
                await self.sweep()
                await self.sweep_uploads()
                failures = 0
            except DependencyUnavailable:
                # Logged once per outage by the store or blob store: retry sooner.
                failures += 1
                wait = backoff(failures, base_s=1.0, cap_s=min(60.0, interval))
            except Exception:
                log.exception("retention sweep failed; will retry")
            await asyncio.sleep(wait)
