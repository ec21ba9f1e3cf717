"""The delivery loop: claims due deliveries with a lease and sends them concurrently.

Runs in every `reelserve serve` (and every worker process): leases make any
number of loops safe side by side. Sends are bounded overall (`concurrency`)
and per receiver origin (`per_origin`: scheme, host and port). A claim skips
the origins already at their bound, so a receiver that hangs holds at most
`per_origin` slots for at most the timeout, and never delays deliveries to
others; rows of one claim beyond an origin's bound wait in memory for that
origin's next free slot (they stay leased). Workers never wait on any of
this: they only insert the outbox row.

Through a database outage the loop goes on: claims fail quietly (the store
logs the outage once) and are tried again; the store calls around a send
(the receiver's key, the recorded attempt) are retried while the delivery's
lease lasts, so a callback sent during an outage is not sent again once the
database is back. One whose attempt could not be recorded in time is sent
again when its lease lapses (at least once, as always).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, defaultdict, deque
from collections.abc import Iterable
from contextlib import suppress

import httpx

from reelserve.callbacks.models import Delivery, DeliveryState
from reelserve.callbacks.policy import decide
from reelserve.callbacks.sender import send
from reelserve.errors import DependencyUnavailable
from reelserve.observability import metrics
from reelserve.retry import patiently
from reelserve.security.urlguard import outbound_transport
from reelserve.settings import Settings
from reelserve.store.cache import TtlCache
from reelserve.store.store import Store

log = logging.getLogger("reelserve.callbacks")

_OUTCOMES = {
    DeliveryState.DELIVERED: "delivered",
    DeliveryState.PENDING: "retrying",
    DeliveryState.FAILED: "failed",
    DeliveryState.ABANDONED: "abandoned",
}
"""The `outcome` label of an attempt, by the delivery's state after it."""


class DeliveryLoop:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        concurrency: int = 64,
        per_origin: int = 8,
        exempt: Iterable[tuple[str, int]] = (),
    ) -> None:
        self.settings = settings
        self.store = store
        self.concurrency = concurrency
        self.per_origin = per_origin
        self._exempt = tuple(exempt)
        self._wake = asyncio.Event()
        self._stopping = False
        self._draining = False
        self._idle = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()
        self._sending: Counter[str] = Counter()
        self._waiting: defaultdict[str, deque[Delivery]] = defaultdict(deque)
        self._deadlines: dict[str, float] = {}
        """Delivery id -> when (monotonic) its lease runs out, less a margin."""
        self._keys: TtlCache[tuple[str | None]] = TtlCache(5.0)
        self._client: httpx.AsyncClient | None = None
        # A delivery's lease must outlive its slowest possible attempt.
        self.lease_s = max(settings.lease_s, 2 * settings.callback_timeout_s + 5)

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def drain(self, grace_s: float) -> None:
        """Stop claiming, let the deliveries in hand finish for up to `grace_s`, then stop.

        What is still unsent then keeps its lease until it lapses and goes again.
        """
        self._draining = True
        if self.busy:
            self._idle.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), grace_s)
        self.stop()

    @property
    def busy(self) -> int:
        """Deliveries this loop holds: being sent or waiting for their origin."""
        return len(self._inflight) + sum(len(q) for q in self._waiting.values())

    async def run(self) -> None:
        transport = outbound_transport(self.settings.allow_private_urls, self._exempt)
        limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=32)
        async with httpx.AsyncClient(transport=transport, limits=limits) as client:
            self._client = client
            try:
                while not self._stopping:
                    self._wake.clear()
                    if await self._claim() and self.busy < self.concurrency:
                        continue  # there may be more due right now
                    await self._sleep()
            finally:
                for task in list(self._inflight):
                    task.cancel()
                # Unfinished sends keep their lease until it lapses, then go again.
                await asyncio.gather(*self._inflight, return_exceptions=True)

    async def _claim(self) -> int:
        free = self.concurrency - self.busy
        if free <= 0 or self._draining:
            return 0
        full = [o for o, n in self._sending.items() if n >= self.per_origin]
        claimed_at = time.monotonic()
        try:
            batch = await self.store.deliveries.claim_due(free, self.lease_s, skip_origins=full)
        except DependencyUnavailable:
            return 0  # logged once per outage by the store; the next poll tries again
        except Exception:
            log.exception("claiming deliveries failed; will retry")
            return 0
        for delivery in batch:
            self._deadlines[delivery.id] = claimed_at + self.lease_s - 1.0
            self._start_or_queue(delivery)
        return len(batch)

    def _start_or_queue(self, delivery: Delivery) -> None:
        if self._sending[delivery.origin] >= self.per_origin:
            self._waiting[delivery.origin].append(delivery)
            return
        self._sending[delivery.origin] += 1
        task = asyncio.create_task(self._deliver(delivery))
        self._inflight.add(task)
        task.add_done_callback(lambda t: self._done(t, delivery))

    def _done(self, task: asyncio.Task[None], delivery: Delivery) -> None:
        origin = delivery.origin
        self._deadlines.pop(delivery.id, None)
        self._inflight.discard(task)
        self._sending[origin] -= 1
        if self._sending[origin] <= 0:
            del self._sending[origin]
        waiting = self._waiting.get(origin)
        if waiting:
            self._start_or_queue(waiting.popleft())
            if not waiting:
                del self._waiting[origin]
        self._wake.set()  # a slot is free
        if not self.busy:
            self._idle.set()
        if not task.cancelled() and (exc := task.exception()) is not None:
            if isinstance(exc, DependencyUnavailable):
                log.warning(
                    "callback %s for task %s: not recorded before its lease lapsed (%s); "
                    "it is sent again then",
                    delivery.id,
                    delivery.task_id,
                    exc,
                )
            else:
                log.error("delivery crashed: %r", exc)

    async def _sleep(self) -> None:
        """Until woken (new delivery, free slot), the next due retry, or the poll period."""
        timeout = self.settings.worker_poll_s
        if self.busy < self.concurrency:
            with suppress(Exception):
                due = await self.store.deliveries.next_due()
                if due is not None:
                    timeout = min(timeout, max(0.0, due - time.time()))
        # Always yield, even with nothing to wait for: sends and the API share this loop.
        await asyncio.sleep(0)
        if timeout > 0 and not self._wake.is_set():
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def _deliver(self, delivery: Delivery) -> None:
        assert self._client is not None
        deadline = self._deadlines.get(delivery.id, time.monotonic() + 1.0)
        key = await patiently(
            lambda: self._webhook_key(delivery.api_key_id), deadline=lambda: deadline
        )
        sending = time.monotonic()
        sent = await send(self._client, delivery, key, self.settings.callback_timeout_s)
        send_s = time.monotonic() - sending
        decision = decide(
            attempt_number=delivery.attempts + 1,
            status=sent.attempt.http_status,
            blocked=sent.blocked,
            retry_after=sent.retry_after,
            delays=self.settings.callback_retry_delays,
            now=sent.attempt.at,
        )
        await patiently(
            lambda: self.store.deliveries.record(
                delivery, sent.attempt, decision.state, decision.next_attempt_at
            ),
            deadline=lambda: deadline,
        )
        delivered = decision.state is DeliveryState.DELIVERED
        metrics.callback_sent(
            _OUTCOMES[decision.state],
            send_s,
            delivery.stage,
            time.time() - delivery.created_at if delivered else None,
        )
        if not delivered:
            log.info(
                "callback %s for task %s: %s -> %s",
                delivery.id,
                delivery.task_id,
                sent.attempt.error,
                decision.state.value,
            )

    async def _webhook_key(self, api_key_id: str) -> str | None:
        cached = self._keys.get(api_key_id)
        if cached is not None:
            return cached[0]
        key = await self.store.keys.webhook_key(api_key_id)
        self._keys.put(api_key_id, (key,))
        return key
