"""A short-lived, per-process cache of task reads.

Polling is most of an async API's traffic, and the same task is often polled
many times a second. Writes made through this process invalidate their
entries at once; writes by other processes (scale-out workers) show within
`ttl_s`, which is below the rate at which progress is written anyway; on
PostgreSQL they show at once, as their NOTIFY drops the entries
(`TaskStore.forget`).

A read that was in flight when its entry was dropped must not put the old
row back: `put(..., since=stamp())` is ignored when the key was dropped after
the stamp (a tombstone).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Generic, TypeVar

V = TypeVar("V")


class TtlCache(Generic[V]):
    def __init__(self, ttl_s: float, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, V]] = {}
        self._dropped: dict[str, float] = {}
        self._cleared_at = -1.0

    @staticmethod
    def stamp() -> float:
        """Take before a read whose result will be `put`."""
        return time.monotonic()

    def get(self, key: str) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            self._entries.pop(key, None)
            return None
        return entry[1]

    def put(self, key: str, value: V, since: float | None = None) -> None:
        if self.ttl_s <= 0:
            return
        if since is not None and max(self._cleared_at, self._dropped.get(key, -1.0)) >= since:
            return  # changed while it was being read
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + self.ttl_s, value)

    def drop(self, keys: Iterable[str]) -> None:
        if self.ttl_s <= 0:
            return
        now = time.monotonic()
        if len(self._dropped) >= self.max_entries:
            self._dropped = {k: t for k, t in self._dropped.items() if now - t < self.ttl_s}
            if len(self._dropped) >= self.max_entries:
                self._dropped.clear()
        for key in keys:
            self._entries.pop(key, None)
            self._dropped[key] = now

    def clear(self) -> None:
        self._entries.clear()
        self._cleared_at = time.monotonic()
