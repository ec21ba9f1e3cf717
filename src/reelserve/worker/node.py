"""One `reelserve worker` process: task slots, the delivery loop, a heartbeat row, shutdown.

Shutdown (SIGTERM or SIGINT, see `request_stop`): stop claiming at once; let
the tasks in hand finish for up to `REELSERVE_WORKER_GRACE_S`; then give the
rest back to the queue (their engines are told to stop at their next progress
report) without counting the attempt; let callbacks being sent finish within
what is left of the grace period; remove the worker's row. A task is never
left `running`: whatever this worker still holds at the end is released. A
SIGKILL skips all that; the task's lease then lapses and another worker
claims it again (worker/loop.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Iterable

from reelserve.blobs.base import BlobStore
from reelserve.blobs.choose import blob_store_for
from reelserve.blobs.links import MediaLinks
from reelserve.blobs.signing import UrlSigner
from reelserve.callbacks.loop import DeliveryLoop
from reelserve.callbacks.outbox import Outbox
from reelserve.engines.registry import EngineRegistry, registry_for
from reelserve.settings import Settings
from reelserve.store.postgres import DELIVERIES_DUE, TASKS_QUEUED
from reelserve.store.store import Store
from reelserve.store.workers import WorkerInfo
from reelserve.worker.loop import Worker, configured_engines

log = logging.getLogger("reelserve.worker")

FORGET_AFTER_S = 86400.0
"""Rows of workers silent this long (killed, never restarted) are removed at start."""


def presence(worker: Worker, concurrency: int) -> WorkerInfo:
    """The row describing `worker` in the workers table."""
    return WorkerInfo(
        id=worker.id,
        host=socket.gethostname(),
        pid=os.getpid(),
        engines=tuple(sorted(worker.engines)),
        concurrency=concurrency,
        started_at=time.time(),
    )


async def keep_present(store: Store, info: WorkerInfo, interval_s: float) -> None:
    """Heartbeat the worker's row until cancelled, then remove it."""
    try:
        while True:
            try:
                await store.workers.beat(info)
            except Exception:
                log.exception("worker heartbeat failed; retrying")
            await asyncio.sleep(interval_s)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.shield(store.workers.remove(info.id))


class WorkerNode:
    def __init__(
        self,
        settings: Settings,
        *,
        engines: Iterable[str] = (),
        concurrency: int = 1,
        registry: EngineRegistry | None = None,
        blobs: BlobStore | None = None,
    ) -> None:
        self.settings = settings
        self.concurrency = max(1, concurrency)
        registry = registry or registry_for(settings.engine_plugins, settings)
        self.registry = registry
        chosen = set(engines) or configured_engines(settings)
        for name in chosen:
            registry.check(name)
        self.store = Store(settings.resolved_database_url, settings.read_cache_s)
        links = MediaLinks(
            settings, UrlSigner(settings.resolved_signing_secret(), settings.public_url)
        )
        self.deliveries = DeliveryLoop(settings, self.store)
        self.worker = Worker(
            settings,
            self.store,
            blobs or blob_store_for(settings),
            registry,
            chosen,
            outbox=Outbox(links),
            on_delivery=self.deliveries.wake,
        )
        self.info = presence(self.worker, self.concurrency)
        self._stop = asyncio.Event()

    def request_stop(self) -> None:
        """Begin a graceful shutdown (the SIGTERM handler)."""
        if not self._stop.is_set():
            log.info(
                "worker %s: stopping (grace %.0f s)", self.worker.id, self.settings.worker_grace_s
            )
        self._stop.set()

    async def run(self) -> None:
        await self.store.open()
        await self.store.workers.prune(FORGET_AFTER_S)
        listener = (
            self.store.listener(
                {
                    TASKS_QUEUED: self.worker.wake_for,
                    DELIVERIES_DUE: lambda _payload: self.deliveries.wake(),
                }
            )
            if self.settings.listen_notify
            else None
        )
        background = [
            asyncio.create_task(self.deliveries.run(), name="deliveries"),
            asyncio.create_task(
                keep_present(self.store, self.info, self.settings.worker_heartbeat_s),
                name="presence",
            ),
        ]
        if listener is not None:
            background.append(asyncio.create_task(listener.run(), name="listener"))
        working = asyncio.create_task(self.worker.run(self.concurrency), name="worker")
        stop = asyncio.create_task(self._stop.wait())
        try:
            await asyncio.wait([working, stop], return_when=asyncio.FIRST_COMPLETED)
            if working.done():
                working.result()  # a crash of the loop itself: surface it
            await self._shutdown(working)
        finally:
            stop.cancel()
            if listener is not None:
                listener.stop()
            self.deliveries.stop()
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            # Engine child processes (diffusers) stop here; close() interrupts a render.
            await asyncio.to_thread(self.registry.close)
            await self.store.close()

    async def _shutdown(self, working: asyncio.Task[None]) -> None:
        deadline = time.monotonic() + self.settings.worker_grace_s
        self.worker.stop()  # no new claims; tasks in hand go on
        done, _ = await asyncio.wait([working], timeout=self.settings.worker_grace_s)
        if not done:
            busy = list(self.worker.current)
            log.warning("worker %s: grace over, giving back %s", self.worker.id, busy)
            self.worker.abandon_renders()
            working.cancel()
            await asyncio.gather(working, return_exceptions=True)
        # Whatever a failed write left under this worker's id goes back too.
        for task in await self.store.tasks.held_by(self.worker.id):
            if task.lease_token:
                await self.store.tasks.release(task.id, task.lease_token, count_attempt=False)
        await self.deliveries.drain(max(0.0, deadline - time.monotonic()))
        log.info("worker %s: stopped", self.worker.id)
