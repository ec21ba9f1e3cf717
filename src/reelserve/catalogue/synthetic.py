"""The `synthetic/*` models (kie-api.md §2) as JSON schemas, validated like every other model.

They keep the rules `tasks/catalogue.py` gave them: `prompt` 1..5000
characters (whitespace alone is missing), `duration` 1..10 s (int or numeric
string, default 5), `resolution` 360p..1080p (default 720p), `aspect_ratio`
one of the five Runway ratios (default 16:9), `seed` 0..4294967295, and the
image-to-video / video-to-video source (http(s) URL or data: URI).
"""

from __future__ import annotations

from typing import Any

from reelserve.engines.base import Capability
from reelserve.tasks import geometry
from reelserve.tasks.rules import IMAGE_MIME_TYPES, SEED_MAX

_COMMON: dict[str, Any] = {
    "prompt": {"type": "string", "minLength": 1, "maxLength": 5000},
    "duration": {"type": "integer", "minimum": 1, "maximum": 10, "default": 5},
    "resolution": {
        "type": "string",
        "enum": ["360p", "480p", "720p", "1080p"],
        "default": "720p",
    },
    "aspect_ratio": {"type": "string", "enum": list(geometry.ASPECT_RATIOS), "default": "16:9"},
    "seed": {"type": "integer", "minimum": 0, "maximum": SEED_MAX},
}
_SOURCES: dict[str, dict[str, Any]] = {
    "image_url": {
        "type": "string",
        "x-accept": list(IMAGE_MIME_TYPES),
        "description": "http(s) URL or data: URI of a JPEG/PNG/WebP (first frame)",
    },
    "video_url": {"type": "string", "description": "http(s) URL or data: URI of the source video"},
}

SYNTHETIC: dict[str, dict[str, Any]] = {
    "synthetic/text-to-video": {
        "operation": Capability.TEXT_TO_VIDEO,
        "source": None,
        "description": "A video from a prompt.",
    },
    "synthetic/image-to-video": {
        "operation": Capability.IMAGE_TO_VIDEO,
        "source": "image_url",
        "description": "A video that starts on `image_url`.",
    },
    "synthetic/video-to-video": {
        "operation": Capability.VIDEO_TO_VIDEO,
        "source": "video_url",
        "description": "`video_url` restyled by the prompt.",
    },
}


def synthetic_schema(name: str) -> dict[str, Any]:
    source = SYNTHETIC[name]["source"]
    properties = dict(_COMMON)
    required = ["prompt"]
    if source:
        properties[source] = _SOURCES[source]
        required.append(source)
    return {"type": "object", "properties": properties, "required": sorted(required)}


def synthetic_example(name: str) -> dict[str, Any]:
    example: dict[str, Any] = {"prompt": "A fox in the snow"}
    source = SYNTHETIC[name]["source"]
    if source == "image_url":
        example["image_url"] = "https://images.example.com/a.png"
    if source == "video_url":
        example["video_url"] = "https://videos.example.com/source.mp4"
    return example
