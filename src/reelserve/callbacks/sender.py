"""One delivery attempt: POST the stored body, signed, with a hard timeout."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from reelserve.callbacks.models import Attempt, Delivery
from reelserve.callbacks.signing import callback_headers
from reelserve.security.urlguard import BlockedUrl

RESPONSE_KEPT = 1024
"""Bytes of a receiver's answer kept with the attempt."""


@dataclass(frozen=True)
class Sent:
    attempt: Attempt
    retry_after: str | None
    blocked: bool


async def send(
    client: httpx.AsyncClient, delivery: Delivery, key: str | None, timeout_s: float
) -> Sent:
    """POST `delivery` once. Redirects are not followed; the answer's first
    `RESPONSE_KEPT` bytes are kept for the attempt's record (the console shows them)."""
    timestamp = int(time.time())
    headers = callback_headers(
        webhook_id=delivery.webhook_id,
        timestamp=timestamp,
        body=delivery.body,
        task_id=delivery.task_id,
        key=key,
    )
    started = time.monotonic()
    status: int | None = None
    retry_after: str | None = None
    error = ""
    answer = b""
    blocked = False
    try:
        request = client.build_request(
            "POST",
            delivery.url,
            content=delivery.body.encode(),
            headers=headers,
            timeout=httpx.Timeout(timeout_s),
        )
        response = await client.send(request, stream=True, follow_redirects=False)
        try:
            status = response.status_code
            async for chunk in response.aiter_raw():
                answer += chunk
                if len(answer) >= RESPONSE_KEPT:
                    break
        finally:
            await response.aclose()
        retry_after = response.headers.get("retry-after")
        if not 200 <= status < 300:
            error = f"HTTP {status}"
    except BlockedUrl as exc:
        blocked = True
        error = f"blocked: {exc}"
    except httpx.TimeoutException:
        error = f"timeout after {timeout_s:g} s"
    except httpx.HTTPError as exc:
        error = f"connection error: {type(exc).__name__}: {exc}".rstrip(": ")
    duration_ms = int((time.monotonic() - started) * 1000)
    kept = answer[:RESPONSE_KEPT].decode("utf-8", "replace")
    return Sent(Attempt(time.time(), status, error, duration_ms, kept), retry_after, blocked)
