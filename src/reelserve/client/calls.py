"""One API call as data, and the pure rules around it: envelope reading and retry.

`Client` and `AsyncClient` execute the same `Call`s, so the two differ only in
how they wait for the network; what a call sends, when it may be repeated and
how its answer is read live here once.
"""

from __future__ import annotations

import email.utils
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

import httpx

from reelserve.client.errors import ReelserveError, error_for

T = TypeVar("T")

RETRYABLE_CODES = frozenset({429, 500, 502, 503, 504})
"""Answers worth repeating a safe call for (a 505 or 455 will not change by itself)."""


@dataclass(frozen=True)
class Call(Generic[T]):
    """What to send, where (`api` or `upload` host), whether repeating it is harmless,
    and how to turn the envelope's `data` into the result."""

    method: str
    path: str
    parse: Callable[[Any], T]
    params: dict[str, str] | None = None
    json: dict[str, Any] | None = None
    data: dict[str, str] | None = None
    files: dict[str, Any] | None = None
    host: Literal["api", "upload"] = "api"
    safe_to_repeat: bool = False


@dataclass(frozen=True)
class RetryPolicy:
    """Retries of calls that are safe to repeat: exponential backoff with jitter,
    or the server's `Retry-After` when it gives one (up to `max_retry_after`)."""

    max_retries: int = 3
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    max_retry_after: float = 60.0
    jitter: float = 0.1
    _random: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds before retry number `attempt` (1-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        base = min(self.backoff_base * 2.0 ** (attempt - 1), self.backoff_max)
        return base * (1 + self.jitter * self._random.random())


NO_RETRIES = RetryPolicy(max_retries=0)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """`Retry-After` as seconds: a number, or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass(frozen=True)
class Outcome:
    """An answer read: the envelope's data, or the error it stands for."""

    data: Any
    error: ReelserveError | None
    retryable: bool
    retry_after: float | None


def read_answer(response: httpx.Response) -> Outcome:
    """Read an answer the same way whether the server reports the outcome in the envelope's
    `code` (HTTP 200, KIE's way) or in the HTTP status (`rest`), or a proxy answered."""
    retry_after = retry_after_seconds(response.headers.get("Retry-After"))
    body: Any = None
    try:
        body = json.loads(response.content) if response.content else None
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("code"), int):
        code = int(body["code"])
        message = str(body.get("msg") or body.get("message") or "")
    else:
        code = response.status_code
        message = response.reason_phrase or f"HTTP {code}"
        if response.status_code < 400:
            err = error_for(500, f"unexpected answer (not a JSON envelope): {message}")
            return Outcome(None, err, False, None)
    if code == 200 and response.status_code < 400:
        return Outcome(body.get("data") if isinstance(body, dict) else None, None, False, None)
    if code == 200:  # an envelope that says success under an HTTP error: trust the status
        code = response.status_code
    error = error_for(
        code,
        message or f"HTTP {response.status_code}",
        http_status=response.status_code,
        retry_after=retry_after,
        body=body,
    )
    retryable = code in RETRYABLE_CODES or response.status_code in RETRYABLE_CODES
    return Outcome(None, error, retryable, retry_after)
