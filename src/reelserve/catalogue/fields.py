"""Which input fields are media sources, of what kind, and in what role.

KIE's schemas mark few URL fields (`format: uri`, `x-accept`), so the field
name decides: every media field KIE uses is listed here, and a test checks that
every field of every schema with `format: uri` or `x-accept` is one of them.
`x-accept` (the documented MIME types), when present, decides the kind.
"""

from __future__ import annotations

from typing import Any, Literal

MediaKind = Literal["image", "video", "audio"]

IMAGE_FIELDS = frozenset(
    {
        "image", "image_url", "image_urls", "image_input", "input_urls",
        "first_frame_url", "first_frame", "last_frame_url", "end_image_url",
        "tail_image_url", "reference_image_urls", "reference_image", "mask_url",
        "reference_mask_urls", "element_input_urls",
    }
)  # fmt: skip
VIDEO_FIELDS = frozenset(
    {
        "video_url", "video_urls", "reference_video_urls", "reference_video",
        "first_clip_url", "character_file_url",
    }
)  # fmt: skip
AUDIO_FIELDS = frozenset(
    {"audio_url", "driving_audio_url", "reference_audio_urls", "reference_voice"}
)

_ROLES: dict[str, str] = {
    "first_frame_url": "first_frame",
    "first_frame": "first_frame",
    "last_frame_url": "last_frame",
    "end_image_url": "last_frame",
    "tail_image_url": "last_frame",
    "reference_image_urls": "reference",
    "reference_image": "reference",
    "element_input_urls": "reference",
    "mask_url": "mask",
    "reference_mask_urls": "mask",
    "reference_video_urls": "reference_video",
    "reference_video": "reference_video",
    "reference_audio_urls": "reference_audio",
    "reference_voice": "reference_audio",
}
PLAIN_IMAGE_FIELDS = frozenset({"image", "image_url", "image_urls", "image_input", "input_urls"})
"""Fields whose role depends on the operation: the image itself, or a video's first frame."""

MIME_ALIASES = {
    "image/jpg": "image/jpeg",
    "audio/mp3": "audio/mpeg",
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/x-m4a": "audio/m4a",
}


def media_kind(name: str, spec: dict[str, Any]) -> MediaKind | None:
    """The kind of media a field holds (by its `x-accept`, else its name), or None."""
    accept = spec.get("x-accept") or []
    kinds: tuple[MediaKind, ...] = ("image", "video", "audio")
    for kind in kinds:
        if accept and all(str(m).startswith(kind + "/") for m in accept):
            return kind
    if name in IMAGE_FIELDS:
        return "image"
    if name in VIDEO_FIELDS:
        return "video"
    if name in AUDIO_FIELDS:
        return "audio"
    return None


def role_of(name: str, kind: MediaKind) -> str:
    """The role of a source field; plain image fields answer "image" (plan refines it)."""
    if name in _ROLES:
        return _ROLES[name]
    return kind


def normal_mime(mime: str) -> str:
    mime = mime.lower()
    return MIME_ALIASES.get(mime, mime)
