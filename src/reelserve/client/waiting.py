"""The pure part of `Task.wait`: when to poll next, and what a record means for the waiter."""

from __future__ import annotations

from typing import Literal

from reelserve.client.errors import TaskExpired, TaskFailed
from reelserve.client.models import TaskRecord


class PollBackoff:
    """Poll every `interval` while the task moves; back off (×1.5, up to `max_interval`,
    by default 5 × `interval` and at most 10 s) while nothing changes, so a long queue is
    not hammered, progress still shows, and an ending is seen soon after it happens."""

    def __init__(self, interval: float, max_interval: float | None = None) -> None:
        if interval <= 0:
            raise ValueError("poll_interval must be > 0")
        self.interval = interval
        default = min(10.0, 5 * interval)
        self.max_interval = max(interval, max_interval if max_interval is not None else default)
        self._current = interval
        self._last: tuple[str, float] | None = None

    def next_delay(self, record: TaskRecord) -> float:
        seen = (record.state, round(record.progress, 4))
        if seen != self._last:
            self._current = self.interval
        else:
            self._current = min(self._current * 1.5, self.max_interval)
        self._last = seen
        return self._current


Until = Literal["complete", "first"]
"""What `wait` waits for: the task's end, or its first usable result (Suno's
FIRST_SUCCESS with track 0's MP3; the end for families without partial results)."""


def settle(record: TaskRecord, until: Until = "complete") -> bool:
    """True when the wait is over with a usable result; raises when it is over without one."""
    if until not in ("complete", "first"):
        raise ValueError(f"until must be 'complete' or 'first', not {until!r}")
    if record.failed:
        raise TaskFailed(record.task_id, record.fail_code, record.fail_msg)
    if until == "first" and record.first_ready and not record.succeeded:
        return True
    if record.succeeded:
        if record.expired:
            raise TaskExpired(
                f"task {record.task_id} succeeded but its media has expired and was deleted",
                task_id=record.task_id,
            )
        return True
    return False
