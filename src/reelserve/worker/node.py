"""One `reelserve worker` process: task slots, the delivery loop, a heartbeat row, shutdown.

Shutdown (SIGTERM or SIGINT, see `request_stop`): stop claiming at once; let
the tasks in hand finish for up to `REELSERVE_WORKER_GRACE_S`; then give the
rest back to the queue (their engines are told to stop at their next progress
report) without counting the attempt; let callbacks being sent finish within
what is left of the grace period; remove the worker's row. A task is never
left `running`: whatever this worker still holds at the end is released. A
SIGKILL skips all that; the task's lease then lapses and another worker
claims it again (worker/loop.py).

Outages never end the process: the worker loop is `supervise`d (restarted,
with a log line, if it ever stops), and the presence heartbeat goes on
through a database outage, beating only while the loop is serving, so the
row reads `lost` when the loop is not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Iterable

from reelserve.blobs.base import BlobStore
from reelserve.blobs.choose import blob_store_for
from reelserve.blobs.links import MediaLinks
from reelserve.blobs.signing import UrlSigner
from reelserve.callbacks.loop import DeliveryLoop
from reelserve.callbacks.outbox import Outbox
from reelserve.engines.registry import EngineRegistry, registry_for
from reelserve.errors import DependencyUnavailable
from reelserve.retry import backoff
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


async def keep_present(
    store: Store,
    info: WorkerInfo,
    interval_s: float,
    alive: Callable[[], bool] = lambda: True,
) -> None:
    """Heartbeat the worker's row while `alive()` until cancelled, then remove it.

    While the worker is not serving (being restarted, say) the row is left to
    age: `reelserve workers` shows it `lost` after three missed beats.
    """
    try:
        while True:
            if alive():
                try:
                    await store.workers.beat(info)
                except DependencyUnavailable:
                    pass  # the store logs the outage once; beat again next time
                except Exception:
                    log.exception("worker heartbeat failed; retrying")
            await asyncio.sleep(interval_s)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.shield(store.workers.remove(info.id))


async def supervise(
    name: str, run: Callable[[], Awaitable[None]], stopping: Callable[[], bool]
) -> None:
    """`await run()` until `stopping()`; if it returns or raises before that, log it and run
    it again after a pause (longer while it keeps failing at once)."""
    quick_failures = 0
    while True:
        started = time.monotonic()
        try:
            await run()
            if stopping():
                return
            log.error("%s stopped unexpectedly; restarting it", name)
        except DependencyUnavailable as exc:
            # At its start (orphans re-queued): the outage is logged where it is met.
            log.warning("%s could not start (%s); retrying", name, exc)
        except Exception:
            if stopping():
                return
            log.exception("%s crashed; restarting it", name)
        quick_failures = quick_failures + 1 if time.monotonic() - started < 60 else 1
        await asyncio.sleep(backoff(quick_failures, base_s=1.0, cap_s=30.0))


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
                keep_present(
                    self.store,
                    self.info,
                    self.settings.worker_heartbeat_s,
                    alive=lambda: self.worker.alive,
                ),
                name="presence",
            ),
        ]
        if listener is not None:
            background.append(asyncio.create_task(listener.run(), name="listener"))
        working = asyncio.create_task(
            supervise(
                f"worker {self.worker.id}",
                lambda: self.worker.run(self.concurrency),
                lambda: self.worker.stopping,
            ),
            name="worker",
        )
        stop = asyncio.create_task(self._stop.wait())
        try:
            await asyncio.wait([working, stop], return_when=asyncio.FIRST_COMPLETED)
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
        try:
            for task in await self.store.tasks.held_by(self.worker.id):
                if task.lease_token:
                    await self.store.tasks.release(task.id, task.lease_token, count_attempt=False)
        except DependencyUnavailable as exc:
            log.warning("worker %s: tasks not given back (%s)", self.worker.id, exc)
        await self.deliveries.drain(max(0.0, deadline - time.monotonic()))
        log.info("worker %s: stopped", self.worker.id)
