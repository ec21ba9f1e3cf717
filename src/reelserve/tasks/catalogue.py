"""The market model catalogue (spec §2, §6): each model's input schema and engine operation.

A market model is a name clients pass as `model` to `POST /api/v1/jobs/createTask`.
It declares a pydantic input schema (validated against `input`, so a 422 names
the field as `input.<field>`) and the engine operation that serves it; the engine
itself is whatever the operator configured for that operation
(`REELSERVE_ENGINES`). Adding a model is adding an entry to `MODELS`.

**Decision — market sizes** (`market_size` now lives in `catalogue.geometry`,
re-exported here). 720p and 1080p are the Runway table
(`tasks.geometry`). 360p and 480p are the 720p size scaled by 360/720 and
480/720, rounded down to even numbers (yuv420p needs even sides):

| ratio | 360p | 480p |
|---|---|---|
| 16:9 | 640×360 | 852×480 |
| 9:16 | 360×640 | 480×852 |
| 1:1 | 480×480 | 640×640 |
| 4:3 | 480×360 | 640×480 |
| 3:4 | 360×480 | 480×640 |

`aspect_ratio` (default 16:9) always decides the ratio, also for
image-to-video and video-to-video: the image or video is scaled to cover the
size and centre-cropped. A video-to-video output lasts `duration` seconds, or
the source's length when that is shorter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import Field, field_validator

from reelserve.api.body import LenientBody, numeric_string, problem_text, validate_fields
from reelserve.catalogue.geometry import market_size
from reelserve.engines.base import Capability
from reelserve.errors import ValidationFailed
from reelserve.tasks import geometry
from reelserve.tasks.rules import (
    DataUri,
    check_seed,
    check_text,
    parse_image_source,
    parse_video_source,
)

PROMPT_MAX = 5000
DURATION_MIN, DURATION_MAX = 1, 10
RESOLUTIONS: tuple[str, ...] = ("360p", "480p", "720p", "1080p")
T = TypeVar("T")


class MarketInput(LenientBody):
    """The inputs every `synthetic/*` model takes (KIE's snake_case)."""

    prompt: str = Field(description=f"1..{PROMPT_MAX} characters")
    duration: int = Field(
        5,
        description=f"{DURATION_MIN}..{DURATION_MAX} seconds; numeric strings accepted",
        json_schema_extra={"minimum": DURATION_MIN, "maximum": DURATION_MAX},
    )
    resolution: str = Field("720p", json_schema_extra={"enum": list(RESOLUTIONS)})
    aspect_ratio: str = Field("16:9", json_schema_extra={"enum": list(geometry.ASPECT_RATIOS)})
    seed: int | None = Field(None, description="0..4294967295; same seed, same video")

    @field_validator("duration", "seed", mode="before")
    @classmethod
    def _numeric(cls, value: Any) -> Any:
        return numeric_string(value)

    @field_validator("prompt")
    @classmethod
    def _prompt(cls, value: str) -> str:
        return _rule(check_text, "prompt", value, PROMPT_MAX)

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: int) -> int:
        if not DURATION_MIN <= value <= DURATION_MAX:
            raise ValueError(f"must be {DURATION_MIN}..{DURATION_MAX} (seconds)")
        return value

    @field_validator("resolution")
    @classmethod
    def _resolution(cls, value: str) -> str:
        if value not in RESOLUTIONS:
            raise ValueError(f"must be one of {', '.join(RESOLUTIONS)}")
        return value

    @field_validator("aspect_ratio")
    @classmethod
    def _aspect_ratio(cls, value: str) -> str:
        if value not in geometry.ASPECT_RATIOS:
            raise ValueError(f"must be one of {', '.join(geometry.ASPECT_RATIOS)}")
        return value

    @field_validator("seed")
    @classmethod
    def _seed(cls, value: int | None) -> int | None:
        return _rule(check_seed, "seed", value)


class TextToVideoInput(MarketInput):
    pass


class ImageToVideoInput(MarketInput):
    image_url: str = Field(description="http(s) URL or data: URI of a JPEG/PNG/WebP (first frame)")


class VideoToVideoInput(MarketInput):
    video_url: str = Field(description="http(s) URL or data: URI of the source video, <= 10 MB")


def _rule(check: Callable[..., T], field: str, *args: Any) -> T:
    """A shared rule (tasks.rules) inside a pydantic validator: its text, not its field."""
    try:
        return check(field, *args)
    except ValidationFailed as exc:
        raise ValueError(problem_text(exc)) from None


@dataclass(frozen=True)
class MarketModel:
    name: str
    operation: Capability
    input_schema: type[MarketInput]
    description: str


MODELS: dict[str, MarketModel] = {
    m.name: m
    for m in (
        MarketModel(
            "synthetic/text-to-video",
            Capability.TEXT_TO_VIDEO,
            TextToVideoInput,
            "A video from a prompt.",
        ),
        MarketModel(
            "synthetic/image-to-video",
            Capability.IMAGE_TO_VIDEO,
            ImageToVideoInput,
            "A video that starts on `image_url`.",
        ),
        MarketModel(
            "synthetic/video-to-video",
            Capability.VIDEO_TO_VIDEO,
            VideoToVideoInput,
            "`video_url` restyled by the prompt.",
        ),
    )
}


@dataclass(frozen=True)
class MarketRequest:
    """A validated `createTask` request."""

    model: MarketModel
    prompt: str
    duration: int
    resolution: str
    width: int
    height: int
    seed: int | None
    image: str | DataUri | None
    video: str | DataUri | None
    callback_url: str | None
    submitted: dict[str, Any]
    """The request as the client sent it, for `param`."""


def model_named(name: str) -> MarketModel:
    model = MODELS.get(name.strip())
    if model is None:
        raise ValidationFailed("model", f"unknown model {name!r}; available: {', '.join(MODELS)}")
    return model


def parse_market_input(
    model: MarketModel,
    data: dict[str, Any],
    *,
    callback_url: str | None,
    submitted: dict[str, Any],
    source_max_bytes: int,
) -> MarketRequest:
    """`data` validated against `model`'s schema; problems name `input.<field>` (422)."""
    parsed = validate_fields(model.input_schema, data, prefix="input.")
    image = video = None
    for name in ("image_url", "video_url"):
        value = getattr(parsed, name, None)
        if value is not None and not value.strip():
            raise ValidationFailed(f"input.{name}", "is required")
    if isinstance(parsed, ImageToVideoInput):
        image = parse_image_source("input.image_url", parsed.image_url, source_max_bytes)
    if isinstance(parsed, VideoToVideoInput):
        video = parse_video_source("input.video_url", parsed.video_url, source_max_bytes)
    width, height = market_size(parsed.resolution, parsed.aspect_ratio)
    return MarketRequest(
        model=model,
        prompt=parsed.prompt,
        duration=parsed.duration,
        resolution=parsed.resolution,
        width=width,
        height=height,
        seed=parsed.seed,
        image=image,
        video=video,
        callback_url=callback_url,
        submitted=submitted,
    )
