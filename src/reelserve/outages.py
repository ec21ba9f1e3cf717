"""Outages of what reelserve depends on (the database, media storage), as one process sees them.

An outage is logged twice, however long it lasts and however many requests
and retries meet it: one line when the first operation fails, one when an
operation succeeds again, with how long it lasted, how many operations
failed and how many requests were answered "temporarily unavailable" (503).
Tracebacks would say nothing more: the cause is outside the process.

A full disk fails writes while reads still work, so a read that succeeds
does not end an outage in which a write failed; only a write does. And it
fails some writes while others still fit (SQLite reuses its WAL's room), so
an outage ends only with a success `settle_s` after the last failure: one
outage, not dozens flickering.

Example::

    database = Outage("the database")
    database.failed("connection refused")   # logs: the database is unavailable ...
    database.refused()                      # a request answered 503
    database.ok()                           # logs: the database is available again ...
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger("reelserve.outages")


class Outage:
    """The availability of one dependency; `failed()` and `ok()` are cheap, call them often."""

    def __init__(
        self, name: str, clock: Callable[[], float] = time.monotonic, settle_s: float = 2.0
    ) -> None:
        self.name = name
        self._clock = clock
        self._settle_s = settle_s
        self._last_failure = 0.0
        self.down_since: float | None = None
        self.reason = ""
        self.failures = 0
        """Operations that failed in the current (or last) outage."""
        self.refusals = 0
        """Requests answered 503 in the current (or last) outage."""
        self.outages = 0
        """Outages seen since the process started."""
        self._writes_failed = False

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def failed(self, reason: str, *, write: bool = False) -> None:
        """An operation (`write`: one that changes data) failed because the dependency
        could not be reached or used."""
        now = self._clock()
        self._last_failure = now
        if self.down_since is None:
            self.down_since = now
            self.failures = self.refusals = 0
            self._writes_failed = False
            self.outages += 1
            log.warning(
                "%s is unavailable (%s); retrying, and answering requests that need it "
                "with 503 until it is back",
                self.name,
                reason,
            )
        self.reason = reason
        self.failures += 1
        self._writes_failed = self._writes_failed or write

    def refused(self) -> None:
        """A request was answered 503 because of this outage."""
        self.refusals += 1

    def ok(self, *, write: bool = False) -> None:
        """An operation (`write`: one that changes data) succeeded: if the dependency was
        down, it is back (after a failed write, only a write says so; and only once
        nothing failed for `settle_s`)."""
        if self.down_since is None or (self._writes_failed and not write):
            return
        now = self._clock()
        if now - self._last_failure < self._settle_s:
            return  # still failing now and then: the same outage
        lasted = now - self.down_since
        self.down_since = None
        log.warning(
            "%s is available again after %.1f s (%d failed operation(s), %d request(s) "
            "answered 503)",
            self.name,
            lasted,
            self.failures,
            self.refusals,
        )
