"""The Aleph request body (spec §1.4): types and leniency here, rules in `to_request`."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from reelserve.api.body import LenientBody, numeric_string
from reelserve.errors import ValidationFailed
from reelserve.families.aleph import requests as aleph
from reelserve.families.aleph.requests import AlephRequest
from reelserve.tasks.rules import (
    check_http_url,
    check_seed,
    check_text,
    check_watermark,
    parse_image_source,
    parse_video_source,
)

PROMPT_MAX = 5000
"""KIE gives no limit for Aleph prompts; reelserve is lenient (Runway's own cap is 1800)
and caps them at 5000 characters, like the market models, to bound what is stored."""


class AlephBody(LenientBody):
    prompt: str = Field(description=f"the transformation to apply, 1..{PROMPT_MAX} characters")
    videoUrl: str = Field(description="http(s) URL or data: URI of the source video, <= 10 MB")
    callBackUrl: str | None = Field(None, description="http(s) URL called when the task ends")
    waterMark: str | None = Field(None, description="text burnt into the bottom-right corner")
    uploadCn: Any = Field(None, description="storage region; accepted and ignored")
    aspectRatio: str | None = Field(None, json_schema_extra={"enum": list(aleph.ASPECT_RATIOS)})
    seed: int | None = Field(None, description="0..4294967295; same seed, same video")
    referenceImage: str | None = Field(
        None, description="http(s) URL or data: URI of a style reference image"
    )

    @field_validator("seed", mode="before")
    @classmethod
    def _numeric(cls, value: Any) -> Any:
        return numeric_string(value)

    def to_request(self, source_max_bytes: int) -> AlephRequest:
        prompt = check_text("prompt", self.prompt, PROMPT_MAX)
        if not self.videoUrl.strip():
            raise ValidationFailed("videoUrl", "is required")
        video = parse_video_source("videoUrl", self.videoUrl, source_max_bytes)
        if self.aspectRatio is not None and self.aspectRatio not in aleph.ASPECT_RATIOS:
            allowed = ", ".join(aleph.ASPECT_RATIOS)
            raise ValidationFailed("aspectRatio", f"must be one of {allowed}")
        reference = (
            parse_image_source("referenceImage", self.referenceImage, source_max_bytes)
            if self.referenceImage is not None
            else None
        )
        return AlephRequest(
            prompt=prompt,
            video=video,
            aspect_ratio=self.aspectRatio,
            seed=check_seed("seed", self.seed),
            reference_image=reference,
            watermark=check_watermark("waterMark", self.waterMark) if self.waterMark else None,
            callback_url=(
                check_http_url("callBackUrl", self.callBackUrl) if self.callBackUrl else None
            ),
            submitted=self.model_dump(exclude_none=True),
        )
