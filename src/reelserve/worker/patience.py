"""What a worker does while the database or media storage is out (docs/operations.md).

- `Lease`: how long the worker may still act for a task, as far as it knows.
- `record`: an outcome write (succeed, fail, release), retried through a
  database outage while the lease lasts. One that cannot be written by then
  is left to the lease expiry: the task runs again on its next attempt.
- `with_storage`: a media read or write, retried for the storage window
  (`REELSERVE_STORAGE_RETRY_S`) while the lease holds, without running the
  engine again; after the window the task fails with failCode 500 and a
  message naming storage ("could not store the result: ...").
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from reelserve.blobs.base import BlobUnavailable
from reelserve.errors import DatabaseUnavailable
from reelserve.retry import patiently
from reelserve.worker.failures import TaskFailure

log = logging.getLogger("reelserve.worker")

T = TypeVar("T")

STORE_FAILED = "could not store the result"
READ_FAILED = "could not read the task's inputs from storage"


class LeaseLost(Exception):
    """Another attempt owns the task now: this one's work is dropped."""


class Abandoned(Exception):
    """The worker is shutting down and gave this task back; the engine should stop."""


class Lease:
    """How long this worker may still act for a task, as far as it knows.

    `expires_at` (monotonic) is renewed by each heartbeat that lands, counted
    from when it was sent, so it never runs past the lease in the database.
    """

    def __init__(self, lease_s: float) -> None:
        self.lease_s = lease_s
        self.expires_at = time.monotonic() + lease_s
        self.lost = False

    def renewed(self, sent_at: float) -> None:
        self.expires_at = max(self.expires_at, sent_at + self.lease_s)


async def record(
    task_id: str, what: str, lease: Lease, write: Callable[[], Awaitable[bool]]
) -> bool | None:
    """A lease-checked outcome write, retried through a database outage while the lease
    lasts: True (written), False (refused: the lease was lost), None (not written in time)."""
    try:
        return await patiently(write, deadline=lambda: lease.expires_at)
    except DatabaseUnavailable as exc:
        log.warning(
            "task %s: could not record %s before its lease lapsed (%s); the lease expiry "
            "gives the task to its next attempt",
            task_id,
            what,
            exc,
        )
        return None


async def with_storage(
    task_id: str,
    lease: Lease,
    failure: str,
    op: Callable[[], Awaitable[T]],
    *,
    window_s: float,
    stopping: Callable[[], bool],
) -> T:
    """`op()` (media reads or writes), retried for `window_s` while the lease holds; then
    `TaskFailure(failure: reason, 500)`; `LeaseLost` when another attempt took over,
    `Abandoned` when the worker is stopping (the task is given back, not failed)."""
    window = time.monotonic() + window_s

    def first(exc: BaseException, attempt: int) -> None:
        if attempt == 1:
            log.warning(
                "task %s: media storage unavailable (%s); retrying for up to %.0f s",
                task_id,
                exc,
                window_s,
            )

    try:
        return await patiently(
            op,
            deadline=lambda: window,
            retry_on=BlobUnavailable,
            give_up=lambda: lease.lost or stopping(),
            on_failure=first,
            cap_s=5.0,
        )
    except BlobUnavailable as exc:
        if lease.lost:
            raise LeaseLost() from exc
        if stopping():
            raise Abandoned() from exc
        raise TaskFailure(f"{failure}: {exc}", 500) from exc
