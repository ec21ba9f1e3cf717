"""The retry policy, table-driven."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from reelserve.callbacks.models import DeliveryState
from reelserve.callbacks.policy import decide, parse_retry_after, retry_delay

DELAYS = (60.0, 300.0, 900.0)
NOW = 1_000_000.0


@pytest.mark.parametrize(
    ("attempt", "status", "blocked", "retry_after", "state", "delay"),
    [
        (1, 200, False, None, DeliveryState.DELIVERED, None),
        (1, 204, False, None, DeliveryState.DELIVERED, None),
        (1, 299, False, None, DeliveryState.DELIVERED, None),
        (1, 301, False, None, DeliveryState.PENDING, 60),  # redirects are failures
        (1, 400, False, None, DeliveryState.PENDING, 60),
        (1, 404, False, None, DeliveryState.PENDING, 60),
        (1, 500, False, None, DeliveryState.PENDING, 60),
        (1, None, False, None, DeliveryState.PENDING, 60),  # timeout / connection error
        (2, 503, False, None, DeliveryState.PENDING, 300),
        (3, 503, False, None, DeliveryState.PENDING, 900),
        (4, 503, False, None, DeliveryState.ABANDONED, None),  # 1 try + 3 retries
        (1, 410, False, None, DeliveryState.FAILED, None),  # Gone stops at once
        (3, 410, False, None, DeliveryState.FAILED, None),
        (1, None, True, None, DeliveryState.FAILED, None),  # blocked URL
        (1, 429, False, "120", DeliveryState.PENDING, 120),  # honoured
        (1, 429, False, "5", DeliveryState.PENDING, 60),  # never sooner than the policy
        (1, 429, False, "999999", DeliveryState.PENDING, 3600),  # at most an hour
        (3, 503, False, "10", DeliveryState.PENDING, 900),
        (4, 503, False, "10", DeliveryState.ABANDONED, None),  # Retry-After adds no retries
        (1, 503, False, "soon", DeliveryState.PENDING, 60),  # unreadable: ignored
    ],
)
def test_decide(
    attempt: int,
    status: int | None,
    blocked: bool,
    retry_after: str | None,
    state: DeliveryState,
    delay: float | None,
) -> None:
    decision = decide(
        attempt_number=attempt,
        status=status,
        blocked=blocked,
        retry_after=retry_after,
        delays=DELAYS,
        now=NOW,
    )
    assert decision.state is state
    assert decision.next_attempt_at == (None if delay is None else NOW + delay)


def test_retry_after_as_an_http_date() -> None:
    when = format_datetime(datetime.fromtimestamp(NOW + 200, UTC), usegmt=True)
    assert parse_retry_after(when, NOW) == pytest.approx(200)
    past = format_datetime(datetime.fromtimestamp(NOW - 50, UTC), usegmt=True)
    assert parse_retry_after(past, NOW) == 0.0


@pytest.mark.parametrize("value", [None, "", "later", "-5", "1.5"])
def test_unreadable_retry_after_is_none(value: str | None) -> None:
    assert parse_retry_after(value, NOW) is None


def test_a_retry_after_longer_than_an_hour_is_cut_but_a_long_policy_delay_is_kept() -> None:
    assert retry_delay(0, (7200.0,), 10.0) == 7200.0
    assert retry_delay(0, (60.0,), 99999.0) == 3600.0
