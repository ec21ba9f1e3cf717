"""The delivery loop: claims due deliveries with a lease and sends them concurrently.

Runs in every `reelserve serve` (and every worker process): leases make any
number of loops safe side by side. A receiver that hangs holds one slot for
at most the timeout; slots are bounded overall (`concurrency`) and per host
(`per_host`), so one dead receiver can neither delay others nor take every
slot. Workers never wait on it: they only insert the outbox row.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Iterable
from contextlib import suppress
from urllib.parse import urlsplit

import httpx

from reelserve.callbacks.models import Delivery
from reelserve.callbacks.policy import decide
from reelserve.callbacks.sender import send
from reelserve.security.urlguard import outbound_transport
from reelserve.settings import Settings
from reelserve.store.cache import TtlCache
from reelserve.store.store import Store

log = logging.getLogger("reelserve.callbacks")

DEFER_S = 0.25
"""How long a delivery waits when its host already has `per_host` sends in flight."""


class DeliveryLoop:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        concurrency: int = 64,
        per_host: int = 8,
        exempt: Iterable[tuple[str, int]] = (),
    ) -> None:
        self.settings = settings
        self.store = store
        self.concurrency = concurrency
        self.per_host = per_host
        self._exempt = tuple(exempt)
        self._wake = asyncio.Event()
        self._stopping = False
        self._inflight: set[asyncio.Task[None]] = set()
        self._hosts: Counter[str] = Counter()
        self._keys: TtlCache[tuple[str | None]] = TtlCache(5.0)
        # A delivery's lease must outlive its slowest possible attempt.
        self.lease_s = max(settings.lease_s, 2 * settings.callback_timeout_s + 5)

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        transport = outbound_transport(self.settings.allow_private_urls, self._exempt)
        limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=16)
        async with httpx.AsyncClient(transport=transport, limits=limits) as client:
            try:
                while not self._stopping:
                    self._wake.clear()
                    claimed = await self._claim(client)
                    if claimed and len(self._inflight) < self.concurrency:
                        continue  # there may be more due right now
                    await self._sleep()
            finally:
                for task in list(self._inflight):
                    task.cancel()
                # Unfinished sends keep their lease until it lapses, then go again.
                await asyncio.gather(*self._inflight, return_exceptions=True)

    async def _claim(self, client: httpx.AsyncClient) -> int:
        free = self.concurrency - len(self._inflight)
        if free <= 0:
            return 0
        try:
            batch = await self.store.deliveries.claim_due(free, self.lease_s)
        except Exception:
            log.exception("claiming deliveries failed; will retry")
            return 0
        for delivery in batch:
            task = asyncio.create_task(self._deliver(client, delivery))
            self._inflight.add(task)
            task.add_done_callback(self._done)
        return len(batch)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._wake.set()  # a slot is free
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("delivery crashed: %r", exc)

    async def _sleep(self) -> None:
        timeout = self.settings.worker_poll_s
        with suppress(Exception):
            due = await self.store.deliveries.next_due()
            if due is not None:
                timeout = min(timeout, max(0.0, due - time.time()))
        if timeout > 0:
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def _deliver(self, client: httpx.AsyncClient, delivery: Delivery) -> None:
        host = urlsplit(delivery.url).hostname or ""
        if self._hosts[host] >= self.per_host:
            await self.store.deliveries.defer(delivery, time.time() + DEFER_S)
            return
        self._hosts[host] += 1
        try:
            key = await self._webhook_key(delivery.api_key_id)
            sent = await send(client, delivery, key, self.settings.callback_timeout_s)
            decision = decide(
                attempt_number=delivery.attempts + 1,
                status=sent.attempt.http_status,
                blocked=sent.blocked,
                retry_after=sent.retry_after,
                delays=self.settings.callback_retry_delays,
                now=sent.attempt.at,
            )
            await self.store.deliveries.record(
                delivery, sent.attempt, decision.state, decision.next_attempt_at
            )
            if decision.state.value != "delivered":
                log.info(
                    "callback %s for task %s: %s -> %s",
                    delivery.id,
                    delivery.task_id,
                    sent.attempt.error,
                    decision.state.value,
                )
        finally:
            self._hosts[host] -= 1
            if self._hosts[host] <= 0:
                del self._hosts[host]

    async def _webhook_key(self, api_key_id: str) -> str | None:
        cached = self._keys.get(api_key_id)
        if cached is not None:
            return cached[0]
        key = await self.store.keys.webhook_key(api_key_id)
        self._keys.put(api_key_id, (key,))
        return key
