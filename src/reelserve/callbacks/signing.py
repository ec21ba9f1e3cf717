"""Callback headers and signatures (spec §4).

- `webhook-id` (stable across retries of one delivery) and `webhook-timestamp`
  always;
- with a webhook HMAC key: KIE's `X-Webhook-Timestamp` and
  `X-Webhook-Signature = base64(HMAC_SHA256(key, taskId + "." + timestamp))`,
  which does not cover the body, and the Standard Webhooks
  `webhook-signature = v1,base64(HMAC_SHA256(key, id + "." + timestamp + "." + body))`,
  which does. Both use the key's UTF-8 bytes; a Standard Webhooks verifier
  takes the secret `whsec_` + base64(key).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from reelserve import __version__


def kie_signature(key: str, task_id: str, timestamp: int) -> str:
    mac = hmac.new(key.encode(), f"{task_id}.{timestamp}".encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def standard_signature(key: str, webhook_id: str, timestamp: int, body: str) -> str:
    signed = f"{webhook_id}.{timestamp}.{body}".encode()
    mac = hmac.new(key.encode(), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def whsec(key: str) -> str:
    """The Standard Webhooks form of a webhook HMAC key, for verifier libraries."""
    return "whsec_" + base64.b64encode(key.encode()).decode()


def callback_headers(
    *, webhook_id: str, timestamp: int, body: str, task_id: str, key: str | None
) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"reelserve/{__version__} (callbacks)",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
    }
    if key:
        headers["X-Webhook-Timestamp"] = str(timestamp)
        headers["X-Webhook-Signature"] = kie_signature(key, task_id, timestamp)
        headers["webhook-signature"] = standard_signature(key, webhook_id, timestamp, body)
    return headers
