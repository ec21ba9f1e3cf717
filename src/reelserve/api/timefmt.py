"""Time formats of the dialects (all UTC)."""

from __future__ import annotations

from datetime import UTC, datetime


def runway_time(ts: float) -> str:
    """`YYYY-MM-DD HH:mm:ss`, as Runway-family answers spell times."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def iso_time(ts: float) -> str:
    """ISO 8601 with a Z, e.g. `2023-08-15T14:30:45Z`."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
