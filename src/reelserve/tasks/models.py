"""The Task as the domain sees it, with its canonical statuses."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """Canonical task statuses; each dialect maps them to its own words."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def finished(self) -> bool:
        return self in (Status.SUCCEEDED, Status.FAILED, Status.CANCELED)


class Dialect(StrEnum):
    RUNWAY = "runway"
    ALEPH = "aleph"
    MARKET = "market"


@dataclass(frozen=True)
class Result:
    """What a successful task produced: blob keys of the video and its cover, and their shape."""

    video_id: str
    video_key: str
    cover_key: str
    width: int
    height: int
    frames: int
    fps: int

    def to_json(self) -> dict[str, Any]:
        return {
            "video_id": self.video_id,
            "video_key": self.video_key,
            "cover_key": self.cover_key,
            "width": self.width,
            "height": self.height,
            "frames": self.frames,
            "fps": self.fps,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Result:
        return cls(
            video_id=str(data["video_id"]),
            video_key=str(data["video_key"]),
            cover_key=str(data["cover_key"]),
            width=int(data["width"]),
            height=int(data["height"]),
            frames=int(data["frames"]),
            fps=int(data["fps"]),
        )


@dataclass(frozen=True)
class NewTask:
    """A validated request, ready to be inserted as a queued task."""

    id: str
    api_key_id: str
    dialect: Dialect
    operation: str
    engine: str
    params: dict[str, Any]
    request: dict[str, Any]
    parent_id: str | None = None
    callback_url: str | None = None
    cost: int = 0


@dataclass(frozen=True)
class Task:
    id: str
    seq: int
    api_key_id: str
    dialect: Dialect
    operation: str
    engine: str
    status: Status
    params: dict[str, Any]
    request: dict[str, Any]
    parent_id: str | None
    callback_url: str | None
    created_at: float
    updated_at: float
    started_at: float | None
    finished_at: float | None
    progress: float
    attempts: int
    lease_token: str | None
    lease_expires_at: float | None
    fail_code: int | None
    fail_msg: str
    result: Result | None
    media_expired_at: float | None = None
    worker_id: str | None = None
    cost: int = 0
    credits_charged: int = 0
    credits_refunded: bool = False

    @property
    def media_expired(self) -> bool:
        return self.media_expired_at is not None
