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
    VEO = "veo"
    GPT4O_IMAGE = "gpt4o_image"
    FLUX_KONTEXT = "flux_kontext"
    SUNO = "suno"
    """Suno songs: generate, extend, the upload and add endpoints, replace-section, mashup."""
    SUNO_LYRICS = "suno_lyrics"
    SUNO_WAV = "suno_wav"
    SUNO_STEMS = "suno_stems"
    SUNO_MIDI = "suno_midi"
    SUNO_MP4 = "suno_mp4"
    SUNO_COVER = "suno_cover"


@dataclass(frozen=True)
class Artifact:
    """One stored output file of a task: what it is (kind, role), where (blob key) and its shape.

    `role` says what the file is to the task: `video` and its `cover`, `image`,
    `audio`, `text` (JSON, also kept inline in `data` so polls need no blob
    read), `first_frame`/`last_frame` (Seedance 2's `return_last_frame`),
    `segment` (an extension's new part alone, when the task asks for it).
    Several artifacts may share a role (n images); their order is the
    output's order.
    """

    kind: str
    role: str
    key: str
    mime: str
    width: int = 0
    height: int = 0
    duration: float = 0.0
    bytes: int = 0
    data: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "role": self.role,
            "key": self.key,
            "mime": self.mime,
            "width": self.width,
            "height": self.height,
            "duration": self.duration,
            "bytes": self.bytes,
        }
        if self.data is not None:
            out["data"] = self.data
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Artifact:
        inline = data.get("data")
        return cls(
            kind=str(data["kind"]),
            role=str(data["role"]),
            key=str(data["key"]),
            mime=str(data.get("mime") or ""),
            width=int(data.get("width") or 0),
            height=int(data.get("height") or 0),
            duration=float(data.get("duration") or 0.0),
            bytes=int(data.get("bytes") or 0),
            data=dict(inline) if isinstance(inline, dict) else None,
        )


def video_artifacts(
    video_key: str, cover_key: str, width: int, height: int, frames: int, fps: int
) -> tuple[Artifact, ...]:
    """The artifacts of a video result as the first versions stored it (video + cover)."""
    seconds = frames / fps if fps else 0.0
    return (
        Artifact("video", "video", video_key, "video/mp4", width, height, seconds),
        Artifact("image", "cover", cover_key, "image/png", width, height),
    )


@dataclass(frozen=True)
class Result:
    """What a successful task produced: its artifacts, and for video the first layout's fields.

    `video_id` names the attempt's folder (`media/<task>/<video_id>/`). Video
    results keep `video_key`, `cover_key` and their shape at the top level (the
    Runway and Aleph answers read them, and rows written before artifacts
    existed hold only those); every result lists its `artifacts`.
    """

    video_id: str
    video_key: str = ""
    cover_key: str = ""
    width: int = 0
    height: int = 0
    frames: int = 0
    fps: int = 0
    artifacts: tuple[Artifact, ...] = ()

    def __post_init__(self) -> None:
        if not self.artifacts and self.video_key:
            derived = video_artifacts(
                self.video_key, self.cover_key, self.width, self.height, self.frames, self.fps
            )
            object.__setattr__(self, "artifacts", derived)

    def of_role(self, *roles: str) -> list[Artifact]:
        return [a for a in self.artifacts if a.role in roles]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"video_id": self.video_id}
        if self.video_key:
            out.update(
                video_key=self.video_key,
                cover_key=self.cover_key,
                width=self.width,
                height=self.height,
                frames=self.frames,
                fps=self.fps,
            )
        out["artifacts"] = [a.to_json() for a in self.artifacts]
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Result:
        return cls(
            video_id=str(data.get("video_id") or data.get("id") or ""),
            video_key=str(data.get("video_key") or ""),
            cover_key=str(data.get("cover_key") or ""),
            width=int(data.get("width") or 0),
            height=int(data.get("height") or 0),
            frames=int(data.get("frames") or 0),
            fps=int(data.get("fps") or 0),
            artifacts=tuple(Artifact.from_json(a) for a in data.get("artifacts") or ()),
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
    cancel_requested_at: float | None = None
    """When a running task was asked to stop (its worker ends it as canceled)."""
    deleted_at: float | None = None
    """When its key deleted it: reads by id no longer find it."""

    @property
    def media_expired(self) -> bool:
        return self.media_expired_at is not None
