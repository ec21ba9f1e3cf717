"""Hand-kept catalogue data: what the docs do not say, or say wrongly. Reviewed by people.

Everything here is small on purpose; the 100+ documented schemas come from
`market_models.json`, which `scripts/gen_catalogue.py` derives from KIE's docs
(`kie-openapi.json`). Each table says where its facts come from.

**Decision — vendor.** A task id is `task_<vendor>_<ms>` (notes §5). The rule:
the part of the model name before the first `/` (`kling/v2-1-pro` → `kling`,
`kling-2.6/text-to-video` → `kling-2.6`), else the whole name
(`sora-2-pro-image-to-video`, `z-image`, `nano-banana-pro`), as the docs'
example task ids show; `VENDOR_OVERRIDES` holds the few doc ids that differ.

**Decision — operations.** A model's default operation comes from its name
(`operation_by_name`, first matching pattern wins); `OPERATIONS` names the
models whose names say nothing (`google/imagen4`, `z-image`...). Models whose
operation depends on the input list it in `INPUT_OPERATIONS`: the first field
present (non-empty) picks the operation at plan time, else the default holds.
"""

from __future__ import annotations

from reelserve.engines.base import Capability

C = Capability

PAGE_MODEL_IDS: dict[str, str] = {
    # Doc bugs (notes §5.4): the page's `model` enum names another model; the
    # page's own id (from its title, slug, description and example) is served.
    "market/kling/v25-turbo-image-to-video-pro.md": "kling/v2-5-turbo-image-to-video-pro",
    "market/qwen2/text-to-image.md": "qwen2/text-to-image",
}

VENDOR_OVERRIDES: dict[str, str] = {
    # The docs' example task ids (notes §5: `task_gptimage_…`, `task_qwen_…`).
    "gpt-image-2-text-to-image": "gptimage",
    "gpt-image-2-image-to-image": "gptimage",
    "gpt-image-2": "gptimage",
    "qwen2/image-edit": "qwen",
    "qwen2/text-to-image": "qwen",
}

CHAT_PREFIXES: tuple[str, ...] = ("claude-", "chat/")
"""Besides the chat pages' own names (generated), these families are chat (spec §1)."""

ALIASES: dict[str, str] = {
    # Spec §2 Decision — aliases (names real clients send, notes §5.2).
    "google/nanobanana2": "nano-banana-2",
    "nano-banana-edit": "google/nano-banana-edit",
    "seedream-4-5-edit": "seedream/4.5-edit",
    "kling/v25-turbo-text-to-video-pro": "kling/v2-5-turbo-text-to-video-pro",
    "kling/v25-turbo-image-to-video-pro": "kling/v2-5-turbo-image-to-video-pro",
    # The page slug (`market/kling/motion-control-v3.md`), seen in clients (notes §5.2).
    "kling/motion-control-v3": "kling-3.0/motion-control",
}

_NAME_RULES: tuple[tuple[tuple[str, ...], Capability], ...] = (
    (("sora-2-characters",), C.CREATE_CHARACTER),
    (("watermark-remover",), C.VIDEO_TO_VIDEO),
    (("remove-background",), C.REMOVE_BACKGROUND),
    (("video-upscale",), C.UPSCALE_VIDEO),
    (("upscale",), C.UPSCALE_IMAGE),
    (("text-to-dialogue", "text-to-speech"), C.TEXT_TO_SPEECH),
    (("sound-effect",), C.SOUND_EFFECT),
    (("speech-to-text",), C.SPEECH_TO_TEXT),
    (("audio-isolation",), C.AUDIO_ISOLATION),
    (("avatar", "infinitalk", "speech-to-video", "omnihuman"), C.LIP_SYNC),
    (("motion-control", "animate"), C.MOTION_TRANSFER),
    (("/extend",), C.EXTEND),
    (("reference-to-video", "r2v"), C.REFERENCE_TO_VIDEO),
    (("video-edit", "videoedit", "video-to-video", "v2v"), C.VIDEO_TO_VIDEO),
    (("text-to-video",), C.TEXT_TO_VIDEO),
    (("image-to-video",), C.IMAGE_TO_VIDEO),
    (("text-to-image",), C.TEXT_TO_IMAGE),
    (("image-to-image", "edit", "remix", "reframe"), C.IMAGE_TO_IMAGE),
)

OPERATIONS: dict[str, Capability] = {
    # Names that say nothing about the operation (or say it wrongly).
    "bytedance/seedance-1.5-pro": C.TEXT_TO_VIDEO,
    "bytedance/seedance-2": C.TEXT_TO_VIDEO,
    "bytedance/seedance-2-fast": C.TEXT_TO_VIDEO,
    "bytedance/seedance-2-5": C.TEXT_TO_VIDEO,
    "bytedance/seedream": C.TEXT_TO_IMAGE,
    "gemini-omni-video": C.TEXT_TO_VIDEO,
    "google/imagen4": C.TEXT_TO_IMAGE,
    "google/imagen4-fast": C.TEXT_TO_IMAGE,
    "google/imagen4-ultra": C.TEXT_TO_IMAGE,
    "google/nano-banana": C.TEXT_TO_IMAGE,
    "gpt-image-2": C.TEXT_TO_IMAGE,
    "grok-imagine/upscale": C.UPSCALE_VIDEO,  # "Grok Imagine - Video Upscale"
    "ideogram/character": C.IMAGE_TO_IMAGE,  # a new image of the referenced character
    "kling-3.0/video": C.TEXT_TO_VIDEO,
    "kling/v2-1-pro": C.IMAGE_TO_VIDEO,
    "kling/v2-1-standard": C.IMAGE_TO_VIDEO,
    "nano-banana-2": C.TEXT_TO_IMAGE,
    "nano-banana-2-lite": C.TEXT_TO_IMAGE,
    "nano-banana-pro": C.TEXT_TO_IMAGE,
    "sora-2-pro-storyboard": C.TEXT_TO_VIDEO,
    "wan/2-7-image": C.TEXT_TO_IMAGE,
    "wan/2-7-image-pro": C.TEXT_TO_IMAGE,
    "z-image": C.TEXT_TO_IMAGE,
}

_I2I = (("image_input", C.IMAGE_TO_IMAGE),)
_SEEDANCE_2 = (
    ("reference_image_urls", C.REFERENCE_TO_VIDEO),
    ("reference_video_urls", C.REFERENCE_TO_VIDEO),
    ("reference_audio_urls", C.REFERENCE_TO_VIDEO),
    ("first_frame_url", C.IMAGE_TO_VIDEO),
    ("last_frame_url", C.IMAGE_TO_VIDEO),
)
_MINIMAX_H3 = (("reference_image_urls", C.REFERENCE_TO_VIDEO), ("image_url", C.IMAGE_TO_VIDEO))

INPUT_OPERATIONS: dict[str, tuple[tuple[str, Capability], ...]] = {
    "kling-3.0/video": (("image_urls", C.IMAGE_TO_VIDEO),),
    "bytedance/seedance-1.5-pro": (("input_urls", C.IMAGE_TO_VIDEO),),
    "bytedance/seedance-2": _SEEDANCE_2,
    "bytedance/seedance-2-fast": _SEEDANCE_2,
    "bytedance/seedance-2-5": _SEEDANCE_2,
    "wan/2-7-image": (("input_urls", C.IMAGE_TO_IMAGE),),
    "wan/2-7-image-pro": (("input_urls", C.IMAGE_TO_IMAGE),),
    "nano-banana-2": _I2I,
    "nano-banana-2-lite": _I2I,
    "nano-banana-pro": _I2I,
    "gpt-image-2": (("input_urls", C.IMAGE_TO_IMAGE),),
    "sora-2-pro-storyboard": (("image_urls", C.IMAGE_TO_VIDEO),),
    "gemini-omni-video": (("image_urls", C.IMAGE_TO_VIDEO),),
    "minimax-h3/text-to-video": _MINIMAX_H3,
    "minimax-h3/image-to-video": _MINIMAX_H3,
    "minimax-h3/reference-to-video": _MINIMAX_H3,
}

ONE_OF: dict[str, tuple[tuple[str, ...], ...]] = {
    # At least one field of each group must be given (the docs say so in prose).
    "grok-imagine/image-to-video": (("image_urls", "task_id"),),  # notes §5.4
    "kling-3.0/video": (("prompt", "multi_prompt"),),  # shots carry their own prompts
}

EXCLUSIVE: dict[str, tuple[tuple[str, str], ...]] = {
    # "task_id ... do not use with image_urls" (grok-imagine/image-to-video docs).
    "grok-imagine/image-to-video": (("task_id", "image_urls"),),
}

REQUIRED_WHEN: dict[str, tuple[tuple[str, str], ...]] = {
    # (flag, field): the field is required when the boolean flag is true (notes §5.4).
    "kling-3.0/video": (("multi_shots", "multi_prompt"),),
}

SOUND_MODELS: tuple[str, ...] = ("sora-2-", "gemini-omni-video")
"""Name prefixes of video models that always make sound (spec §2 Decision — sound)."""

IMAGE_COUNTS: dict[str, int] = {
    # notes §5.4: "t2i returns multiple images"; i2v's `index` is 0–5 because "a
    # Grok image task makes 6 images". Image-to-image makes one (docs silent).
    "grok-imagine/text-to-image": 6,
    "grok-imagine-image-2-0/text-to-image": 6,
}

LAST_FRAME_ARRAYS: frozenset[tuple[str, str]] = frozenset(
    {
        # Arrays whose second image is the last frame (notes §5.4).
        ("kling-3.0/video", "image_urls"),
        ("bytedance/seedance-1.5-pro", "input_urls"),
    }
)


def operation_by_name(name: str) -> Capability | None:
    """The operation a model's name says (`*text-to-video*` → text_to_video...), or None."""
    if name in OPERATIONS:
        return OPERATIONS[name]
    for patterns, operation in _NAME_RULES:
        if any(p in name for p in patterns):
            return operation
    return None


def vendor_of(name: str) -> str:
    """The `<vendor>` of `task_<vendor>_<ms>` (see the module docstring)."""
    if name in VENDOR_OVERRIDES:
        return VENDOR_OVERRIDES[name]
    return name.split("/", 1)[0]
