"""The retry policy, as pure functions (table-tested in tests/unit/test_callback_policy.py).

- success is any 2xx; 3xx (redirects are never followed), 4xx, 5xx, a timeout
  or a connection error is a failure;
- `410 Gone` or a blocked URL stops at once (state `failed`);
- otherwise retry after `delays[n]` seconds (n = retries so far), then abandon;
- a receiver's `Retry-After` (seconds or an HTTP date) is honoured, clamped
  to [the policy delay, 1 hour].
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from reelserve.callbacks.models import DeliveryState

RETRY_AFTER_MAX_S = 3600.0


@dataclass(frozen=True)
class Decision:
    state: DeliveryState
    next_attempt_at: float | None = None


def is_success(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or HTTP date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - now)


def retry_delay(
    retries_done: int, delays: tuple[float, ...], retry_after: float | None
) -> float | None:
    """Seconds before the next try after `retries_done` retries; None when none is left."""
    if retries_done >= len(delays):
        return None
    base = delays[retries_done]
    if retry_after is None:
        return base
    return min(max(retry_after, base), max(base, RETRY_AFTER_MAX_S))


def decide(
    *,
    attempt_number: int,
    status: int | None,
    blocked: bool,
    retry_after: str | None,
    delays: tuple[float, ...],
    now: float,
) -> Decision:
    """What becomes of a delivery after attempt `attempt_number` (1 = the first try)."""
    if is_success(status):
        return Decision(DeliveryState.DELIVERED)
    if status == 410 or blocked:
        return Decision(DeliveryState.FAILED)
    delay = retry_delay(attempt_number - 1, delays, parse_retry_after(retry_after, now))
    if delay is None:
        return Decision(DeliveryState.ABANDONED)
    return Decision(DeliveryState.PENDING, now + delay)
