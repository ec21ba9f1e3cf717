"""Deliveries (one callback to send) and their attempts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit


def origin_of(url: str) -> str:
    """scheme://host:port, the unit the delivery loop bounds concurrency by."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    port = port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    return f"{parts.scheme.lower()}://{(parts.hostname or '').lower()}:{port}"


class DeliveryState(StrEnum):
    PENDING = "pending"  # waiting for its first attempt or a retry
    DELIVERED = "delivered"  # a 2xx answer
    FAILED = "failed"  # stopped for good: the receiver answered 410, or the URL is blocked
    ABANDONED = "abandoned"  # every retry used up


@dataclass(frozen=True)
class NewDelivery:
    id: str
    webhook_id: str
    task_id: str
    api_key_id: str
    url: str
    body: str
    stage: str = ""
    """Which of the task's callbacks: Suno's `text` / `first` / `complete`; "" for the only one."""

    @classmethod
    def create(
        cls, task_id: str, api_key_id: str, url: str, body: str, stage: str = ""
    ) -> NewDelivery:
        """A delivery with fresh ids (`webhook_id` is what receivers dedupe on)."""
        return cls(
            id=uuid.uuid4().hex,
            webhook_id=f"msg_{uuid.uuid4().hex}",
            task_id=task_id,
            api_key_id=api_key_id,
            url=url,
            body=body,
            stage=stage,
        )


@dataclass(frozen=True)
class Delivery:
    id: str
    webhook_id: str
    task_id: str
    api_key_id: str
    url: str
    body: str
    state: DeliveryState
    attempts: int
    next_attempt_at: float
    lease_token: str | None
    created_at: float
    stage: str = ""

    @property
    def origin(self) -> str:
        return origin_of(self.url)


@dataclass(frozen=True)
class Attempt:
    at: float
    http_status: int | None
    error: str
    duration_ms: int
    response: str = ""
    """The start of the receiver's answer (`sender.RESPONSE_KEPT` bytes)."""
