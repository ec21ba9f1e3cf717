"""Receiving callbacks: verify their signatures and read their bodies (spec §4).

A callback carries, when the key has a webhook secret, two signatures:

- KIE's: `X-Webhook-Timestamp` and `X-Webhook-Signature =
  base64(HMAC_SHA256(secret, taskId + "." + timestamp))`. It does not cover
  the body: check the body's `taskId` is the one signed (`verify` does).
- Standard Webhooks: `webhook-id`, `webhook-timestamp` and `webhook-signature =
  v1,base64(HMAC_SHA256(secret, id + "." + timestamp + "." + body))`, which
  covers the body. The secret is the key's text, or its `whsec_` + base64 form.

Both are refused outside a replay window (default 5 minutes) around now.

Example::

    from reelserve.client.webhooks import verify

    event = verify(secret, request.headers, request.body)   # raises if forged or stale
    if event.succeeded:
        print(event.task_id, event.video_url)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from reelserve.client.errors import WebhookVerificationError

DEFAULT_TOLERANCE_S = 300
Dialect = Literal["runway", "aleph", "market"]


def _secret_bytes(secret: str | bytes) -> bytes:
    if isinstance(secret, bytes):
        return secret
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret[len("whsec_") :], validate=True)
        except ValueError as exc:
            raise WebhookVerificationError("the whsec_ secret is not valid base64") from exc
    return secret.encode()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def _check_timestamp(timestamp: str | int | None, tolerance: float, now: float | None) -> int:
    try:
        ts = int(str(timestamp))
    except (TypeError, ValueError):
        raise WebhookVerificationError(f"bad or missing timestamp: {timestamp!r}") from None
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance:
        raise WebhookVerificationError(
            f"timestamp {ts} is outside the {tolerance:g} s replay window"
        )
    return ts


def _mac(secret: str | bytes, message: bytes) -> str:
    return base64.b64encode(
        hmac.new(_secret_bytes(secret), message, hashlib.sha256).digest()
    ).decode()


def verify_kie_signature(
    secret: str | bytes,
    task_id: str,
    timestamp: str | int | None,
    signature: str | None,
    *,
    tolerance: float = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> None:
    """Check KIE's `X-Webhook-Signature` for `task_id` at `timestamp`; raises if it fails."""
    ts = _check_timestamp(timestamp, tolerance, now)
    if not signature:
        raise WebhookVerificationError("missing X-Webhook-Signature")
    expected = _mac(secret, f"{task_id}.{ts}".encode())
    if not hmac.compare_digest(expected, signature.strip()):
        raise WebhookVerificationError("X-Webhook-Signature does not match")


def verify_standard_webhook(
    secret: str | bytes,
    headers: Mapping[str, str],
    body: bytes | str,
    *,
    tolerance: float = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> None:
    """Check the Standard Webhooks `webhook-signature` over the raw body; raises if it fails."""
    webhook_id = _header(headers, "webhook-id")
    if not webhook_id:
        raise WebhookVerificationError("missing webhook-id")
    ts = _check_timestamp(_header(headers, "webhook-timestamp"), tolerance, now)
    raw = body.encode() if isinstance(body, str) else body
    expected = _mac(secret, f"{webhook_id}.{ts}.".encode() + raw)
    given = _header(headers, "webhook-signature") or ""
    # Several space-separated signatures may be sent (key rotation); any v1 match will do.
    for candidate in given.split():
        version, _, sig = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(expected, sig):
            return
    raise WebhookVerificationError(
        "webhook-signature does not match" if given else "missing webhook-signature"
    )


@dataclass(frozen=True, kw_only=True)
class CallbackEvent:
    """A callback body, read. `code` 200 is success; `data` keeps the dialect's own fields."""

    dialect: Dialect
    code: int
    msg: str
    task_id: str
    video_url: str
    cover_url: str
    data: dict[str, Any] = field(repr=False)

    @property
    def succeeded(self) -> bool:
        return self.code == 200


@dataclass(frozen=True, kw_only=True)
class RunwayCallback(CallbackEvent):
    video_id: str


@dataclass(frozen=True, kw_only=True)
class AlephCallback(CallbackEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class MarketCallback(CallbackEvent):
    model: str
    state: str
    result_urls: list[str]
    fail_code: str
    fail_msg: str
    credits_consumed: float


def _dialect_of(body: dict[str, Any]) -> Dialect:
    data = body.get("data")
    if "taskId" in body:
        return "aleph"
    if isinstance(data, dict) and "task_id" in data:
        return "runway"
    if isinstance(data, dict) and "taskId" in data:
        return "market"
    raise WebhookVerificationError("not a Runway, Aleph or market callback body")


def parse_callback(
    body: bytes | str | dict[str, Any], dialect: Dialect | None = None
) -> CallbackEvent:
    """A callback body as a `RunwayCallback`, `AlephCallback` or `MarketCallback`
    (the dialect is recognised from the body's shape unless given)."""
    if isinstance(body, dict):
        payload = body
    else:
        try:
            payload = json.loads(body)
        except ValueError as exc:
            raise WebhookVerificationError(f"the callback body is not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise WebhookVerificationError("the callback body is not a JSON object")
    kind = dialect or _dialect_of(payload)
    code = int(payload.get("code") or 0)
    msg = str(payload.get("msg") or "")
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    assert isinstance(data, dict)
    if kind == "runway":
        return RunwayCallback(
            dialect=kind,
            code=code,
            msg=msg,
            task_id=str(data.get("task_id") or ""),
            video_url=str(data.get("video_url") or ""),
            cover_url=str(data.get("image_url") or ""),
            video_id=str(data.get("video_id") or ""),
            data=data,
        )
    if kind == "aleph":
        return AlephCallback(
            dialect=kind,
            code=code,
            msg=msg,
            task_id=str(payload.get("taskId") or ""),
            video_url=str(data.get("result_video_url") or ""),
            cover_url=str(data.get("result_image_url") or ""),
            data=data,
        )
    result: Any = data.get("resultJson") or "{}"
    try:
        urls = json.loads(result).get("resultUrls") or [] if isinstance(result, str) else []
    except (ValueError, AttributeError):
        urls = []
    return MarketCallback(
        dialect=kind,
        code=code,
        msg=msg,
        task_id=str(data.get("taskId") or ""),
        video_url=str(urls[0]) if urls else "",
        cover_url="",
        model=str(data.get("model") or ""),
        state=str(data.get("state") or ""),
        result_urls=[str(u) for u in urls],
        fail_code=str(data.get("failCode") or ""),
        fail_msg=str(data.get("failMsg") or ""),
        credits_consumed=float(data.get("creditsConsumed") or 0),
        data=data,
    )


def verify(
    secret: str | bytes,
    headers: Mapping[str, str],
    body: bytes | str,
    *,
    tolerance: float = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> CallbackEvent:
    """Verify a callback and read it: the Standard Webhooks signature when present (it
    covers the body), else KIE's, checked against the body's own task id."""
    if _header(headers, "webhook-signature"):
        verify_standard_webhook(secret, headers, body, tolerance=tolerance, now=now)
        return parse_callback(body)
    event = parse_callback(body)
    verify_kie_signature(
        secret,
        event.task_id,
        _header(headers, "X-Webhook-Timestamp"),
        _header(headers, "X-Webhook-Signature"),
        tolerance=tolerance,
        now=now,
    )
    return event
