"""Time formats of the dialects (all UTC)."""

from __future__ import annotations

import time

# time.gmtime + strftime: a third of the cost of datetime, on every poll.


def runway_time(ts: float) -> str:
    """`YYYY-MM-DD HH:mm:ss`, as Runway-family answers spell times."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts))


def iso_time(ts: float) -> str:
    """ISO 8601 with a Z, e.g. `2023-08-15T14:30:45Z`."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
