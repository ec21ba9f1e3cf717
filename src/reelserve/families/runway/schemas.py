"""Runway request bodies (spec §1.1, §1.3): types and leniency here, rules in `to_request`."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from reelserve.api.body import LenientBody, numeric_string
from reelserve.errors import ValidationFailed
from reelserve.families.runway.requests import ExtendRequest, GenerateRequest
from reelserve.tasks import geometry
from reelserve.tasks.rules import (
    check_http_url,
    check_text,
    check_watermark,
    parse_image_source,
)

PROMPT_MAX = 1800
EXTEND_PROMPT_MAX = 2048


def _check_quality(value: str) -> str:
    if value not in geometry.QUALITIES:
        raise ValidationFailed("quality", f"must be one of {', '.join(geometry.QUALITIES)}")
    return value


def _optional_url(field: str, value: str | None) -> str | None:
    return check_http_url(field, value) if value is not None else None


class GenerateBody(LenientBody):
    prompt: str = Field(
        description="1..1800 characters", examples=["A red fox running through snow"]
    )
    duration: int = Field(description="5 or 10 (seconds); numeric strings accepted")
    quality: str = Field(description="720p or 1080p; 1080p only with duration 5")
    aspectRatio: str | None = Field(
        None, description="16:9, 4:3, 1:1, 3:4 or 9:16; required without imageUrl"
    )
    imageUrl: str | None = Field(None, description="http(s) URL or data: URI of a JPEG/PNG/WebP")
    waterMark: str | None = Field(None, description="text burnt into the bottom-right corner")
    callBackUrl: str | None = Field(None, description="http(s) URL called when the task ends")
    expandPrompt: Any = Field(None, description="legacy; accepted and ignored")

    @field_validator("duration", mode="before")
    @classmethod
    def _numeric(cls, value: Any) -> Any:
        return numeric_string(value)

    def to_request(self, source_max_bytes: int) -> GenerateRequest:
        prompt = check_text("prompt", self.prompt, PROMPT_MAX)
        if self.duration not in (5, 10):
            raise ValidationFailed("duration", "must be 5 or 10 (seconds)")
        quality = _check_quality(self.quality)
        if quality == "1080p" and self.duration != 5:
            raise ValidationFailed("quality", "1080p is only available with duration 5")
        if self.aspectRatio is not None and self.aspectRatio not in geometry.ASPECT_RATIOS:
            allowed = ", ".join(geometry.ASPECT_RATIOS)
            raise ValidationFailed("aspectRatio", f"must be one of {allowed}")
        image = (
            parse_image_source("imageUrl", self.imageUrl, source_max_bytes)
            if self.imageUrl is not None
            else None
        )
        if image is None and self.aspectRatio is None:
            raise ValidationFailed(
                "aspectRatio",
                f"is required without imageUrl (one of {', '.join(geometry.ASPECT_RATIOS)})",
            )
        return GenerateRequest(
            prompt=prompt,
            duration=self.duration,
            quality=quality,
            aspect_ratio=self.aspectRatio,
            image=image,
            watermark=check_watermark("waterMark", self.waterMark) if self.waterMark else None,
            callback_url=_optional_url("callBackUrl", self.callBackUrl),
            expand_prompt=self.expandPrompt is True,
        )


class ExtendBody(LenientBody):
    taskId: str = Field(description="a successful Runway task of the same key")
    prompt: str = Field(description="1..2048 characters")
    quality: str = Field(description="720p or 1080p")
    waterMark: str | None = None
    callBackUrl: str | None = None

    def to_request(self) -> ExtendRequest:
        if not self.taskId.strip():
            raise ValidationFailed("taskId", "is required")
        return ExtendRequest(
            task_id=self.taskId.strip(),
            prompt=check_text("prompt", self.prompt, EXTEND_PROMPT_MAX),
            quality=_check_quality(self.quality),
            watermark=check_watermark("waterMark", self.waterMark) if self.waterMark else None,
            callback_url=_optional_url("callBackUrl", self.callBackUrl),
        )
