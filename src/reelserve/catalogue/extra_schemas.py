"""Hand-kept schemas: doc pages without a machine-readable schema, and models the docs lack.

**Pages without a schema.** `kie-openapi.json` lists `market/kling/kling-3-0.md`
and `market/sora2/sora-2-characters(-pro).md` with `request: null`; their
schemas here are transcribed from notes §5.3/§5.4 (which read the same pages).
The Sora characters pages are documented models (`documented: True`).

**Decision — models clients use that the docs lack (spec §2).** Each is served
with the schema of its nearest documented sibling (`sibling`), changed by
`patch` (properties added or replaced, `drop` removed, `required` replaced; the
sibling's example values unless `examples` replaces them), and
marked `documented: False`. Their required fields are lenient: a field with a
default is never required (true of every model, see `models.py`), and beyond
that only what the operation cannot do without. `kling-3.0/video` is on the
spec's list, so it is marked undocumented although its page exists:
`multi_shots` and `multi_prompt` are optional (clients send neither unless they
want shots); a prompt or a `multi_prompt` is needed (extras.ONE_OF).
"""

from __future__ import annotations

from typing import Any

_URI_ARRAY = {"type": "array", "items": {"type": "string", "format": "uri"}}
_IMAGES = ["image/jpeg", "image/png", "image/webp"]

_KLING_3: dict[str, Any] = {
    "type": "object",
    "properties": {
        "prompt": {"type": "string"},
        "image_urls": {**_URI_ARRAY, "maxItems": 2, "description": "first frame, last frame"},
        "sound": {"type": "boolean", "default": False},
        "duration": {
            "type": "string",
            "enum": [str(s) for s in range(3, 16)],
            "default": "5",
        },
        "aspect_ratio": {"type": "string", "enum": ["16:9", "9:16", "1:1"], "default": "16:9"},
        "mode": {"type": "string", "enum": ["std", "pro", "4K"], "default": "pro"},
        "multi_shots": {"type": "boolean", "default": False},
        "multi_prompt": {
            "type": "array",
            "maxItems": 5,
            "description": "the shots, used when multi_shots is true",
            "items": {
                "type": "object",
                "properties": {
                    "prompt": {"type": "string", "maxLength": 500},
                    "duration": {"type": "integer", "minimum": 1, "maximum": 12},
                },
                "required": ["prompt", "duration"],
            },
        },
        "kling_elements": {
            "type": "array",
            "maxItems": 3,
            "description": "elements referenced in prompts as @name",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "description": {"type": "string"},
                    "element_input_urls": {
                        **_URI_ARRAY,
                        "minItems": 2,
                        "maxItems": 4,
                        "x-accept": ["image/jpeg", "image/png"],
                        "x-max-mb": 10.0,
                    },
                },
                "required": ["name", "element_input_urls"],
            },
        },
    },
    "required": [],
}

_SORA_CHARACTERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "character_file_url": {
            **_URI_ARRAY,
            "minItems": 1,
            "maxItems": 1,
            "x-accept": ["video/mp4", "video/webm", "video/avi"],
            "x-max-mb": 10.0,
        },
        "character_prompt": {"type": "string", "maxLength": 5000},
        "safety_instruction": {"type": "string", "maxLength": 5000},
    },
    "required": ["character_file_url"],
}

_SORA_CHARACTERS_PRO: dict[str, Any] = {
    "type": "object",
    "properties": {
        "origin_task_id": {"type": "string"},
        "timestamps": {"type": "string"},
        "character_user_name": {"type": "string", "maxLength": 40},
        "character_prompt": {"type": "string", "maxLength": 5000},
        "safety_instruction": {"type": "string", "maxLength": 5000},
    },
    "required": ["origin_task_id", "timestamps", "character_prompt"],
}

PAGE_SCHEMAS: dict[str, dict[str, Any]] = {
    "market/kling/kling-3-0.md": {
        "name": "kling-3.0/video",
        "documented": False,
        "schema": _KLING_3,
        "examples": {"prompt": "A red fox runs through fresh snow, cinematic", "duration": "5"},
    },
    "market/sora2/sora-2-characters.md": {
        "name": "sora-2-characters",
        "documented": True,
        "schema": _SORA_CHARACTERS,
        "examples": {"character_file_url": ["https://example.com/character.mp4"]},
    },
    "market/sora2/sora-2-characters-pro.md": {
        "name": "sora-2-characters-pro",
        "documented": True,
        "schema": _SORA_CHARACTERS_PRO,
        "examples": {
            "origin_task_id": "task_sora-2-text-to-video_1765184035859",
            "timestamps": "1,3",
            "character_prompt": "A friendly robot with round eyes",
        },
    },
}

_H3: dict[str, Any] = {
    # spec §2: `prompt` + optional `image_url`/`reference_image_urls`, duration 6|10,
    # resolution 768P|1080P (the sibling's enums); the input picks the operation.
    "properties": {
        "image_url": {"type": "string", "x-accept": _IMAGES, "x-max-mb": 10.0},
        "reference_image_urls": {**_URI_ARRAY, "x-accept": _IMAGES, "x-max-mb": 10.0},
    },
    "required": ["prompt"],
}
_AVATAR: dict[str, Any] = {"required": ["image_url", "audio_url"]}

UNDOCUMENTED: dict[str, dict[str, Any]] = {
    "bytedance/seedance-2-5": {"sibling": "bytedance/seedance-2"},
    "minimax-h3/text-to-video": {
        "sibling": "hailuo/2-3-image-to-video-pro",
        "patch": _H3,
        "examples": {"prompt": "A paper boat drifts down a rainy street"},
    },
    "minimax-h3/image-to-video": {"sibling": "hailuo/2-3-image-to-video-pro", "patch": _H3},
    "minimax-h3/reference-to-video": {
        "sibling": "hailuo/2-3-image-to-video-pro",
        "patch": _H3,
        "examples": {
            "prompt": "The character waves at the camera",
            "reference_image_urls": ["https://file.aiquickdraw.com/example/character.png"],
        },
    },
    "nano-banana-2-lite": {"sibling": "nano-banana-2"},
    "seedream/5-pro-text-to-image": {"sibling": "seedream/5-lite-text-to-image"},
    "seedream/5-pro-image-to-image": {"sibling": "seedream/5-lite-image-to-image"},
    "grok-imagine-image-2-0/text-to-image": {"sibling": "grok-imagine/text-to-image"},
    "grok-imagine-image-2-0/image-to-image": {"sibling": "grok-imagine/image-to-image"},
    "kling/ai-avatar-v1-pro": {"sibling": "kling/ai-avatar-pro", "patch": _AVATAR},
    "kling/v1-avatar-standard": {"sibling": "kling/ai-avatar-standard", "patch": _AVATAR},
    "omnihuman-1-5": {
        "sibling": "kling/ai-avatar-pro",
        "patch": _AVATAR,
        "description": "A talking video of the portrait `image_url`, driven by `audio_url`.",
    },
    "gemini-omni-video": {
        "sibling": "sora-2-text-to-video",
        "description": "A video with sound from a prompt, optionally starting on `image_urls`.",
        "patch": {
            "drop": ["n_frames", "remove_watermark", "character_id_list", "upload_method"],
            "properties": {
                "image_urls": {**_URI_ARRAY, "maxItems": 3, "x-accept": _IMAGES, "x-max-mb": 10.0},
                "aspect_ratio": {
                    "type": "string",
                    "enum": ["16:9", "9:16", "1:1", "4:3", "3:4", "auto"],
                    "default": "16:9",
                },
                "resolution": {"type": "string", "enum": ["720p", "1080p"], "default": "720p"},
                "duration": {"type": "integer", "minimum": 1, "maximum": 30, "default": 8},
            },
            "required": ["prompt"],
        },
    },
    "gpt-image-2": {
        "sibling": "gpt-image-2-text-to-image",
        "description": "GPT Image 2: text to image, or image to image when `input_urls` is given.",
        "patch": {"properties": {"input_urls": {**_URI_ARRAY, "maxItems": 16}}},
    },
}
