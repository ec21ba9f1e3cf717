"""Retrying through an outage: capped exponential backoff, and a call retried until a deadline.

The loops (worker, deliveries, janitor) wrap their store and blob calls in
`patiently`: an outage error (`DependencyUnavailable`) is retried with backoff
until the deadline the caller can afford (a task's lease, a delivery's lease,
the storage window), then raised. Any other error is raised at once: retrying
a bug only repeats it.

Example::

    ok = await patiently(lambda: store.tasks.succeed(task_id, token, result),
                         deadline=lambda: lease.expires_at)
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from reelserve.errors import DependencyUnavailable

T = TypeVar("T")


def backoff(
    attempt: int,
    *,
    base_s: float = 0.25,
    cap_s: float = 5.0,
    jitter: float = 0.0,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before retry number `attempt` (1, 2, ...): `base_s` doubling, at most
    `cap_s`, minus up to `jitter` of it at random (so many waiters do not retry in step)."""
    delay = min(cap_s, base_s * 2.0 ** max(0, attempt - 1))
    return delay * (1.0 - jitter * rand())


async def patiently(
    op: Callable[[], Awaitable[T]],
    *,
    deadline: Callable[[], float],
    retry_on: type[BaseException] | tuple[type[BaseException], ...] = DependencyUnavailable,
    give_up: Callable[[], bool] = lambda: False,
    on_failure: Callable[[BaseException, int], None] = lambda _exc, _attempt: None,
    base_s: float = 0.25,
    cap_s: float = 5.0,
) -> T:
    """`await op()`, retried on `retry_on` until `deadline()` (a `time.monotonic()` value, read
    again after every failure: a lease may have been extended meanwhile) or `give_up()`; then
    the last error is raised. The last try happens at the deadline, not a backoff before it.
    `on_failure(error, n)` hears of the n-th failure (to log the first, say)."""
    attempt = 0
    while True:
        try:
            return await op()
        except retry_on as exc:
            attempt += 1
            on_failure(exc, attempt)
            left = deadline() - time.monotonic()
            if left <= 0 or give_up():
                raise
            await asyncio.sleep(min(left, backoff(attempt, base_s=base_s, cap_s=cap_s, jitter=0.2)))
