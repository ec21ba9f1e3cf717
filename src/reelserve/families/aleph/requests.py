"""Aleph video-to-video requests (spec §1.4) and their output geometry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reelserve.tasks.rules import DataUri

MAX_SECONDS = 5
"""Only the first 5 s of a source are used; the output is never longer."""

ASPECT_RATIOS: tuple[str, ...] = ("16:9", "9:16", "4:3", "3:4", "1:1", "21:9")

SIZES: dict[str, tuple[int, int]] = {
    "16:9": (1280, 720),
    "9:16": (720, 1280),
    "4:3": (960, 720),
    "3:4": (720, 960),
    "1:1": (960, 960),
    "21:9": (1680, 720),
}
"""Spec §1.4 Decision: with `aspectRatio`, the source is centre-cropped to these sizes."""


@dataclass(frozen=True)
class AlephRequest:
    prompt: str
    video: str | DataUri
    aspect_ratio: str | None
    seed: int | None
    reference_image: str | DataUri | None
    watermark: str | None
    callback_url: str | None
    submitted: dict[str, Any]
    """The request as the client sent it (known fields only), for `paramJson`."""
