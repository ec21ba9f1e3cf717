"""The models the `/v1` endpoints accept and their rules (the SDK's types, 5.24).

Each endpoint has a table of models; a model says which ratios, durations and
inputs it takes. Legacy names (`gen3a_turbo`, `veo3`, `gen4_aleph`,
`upscale_v1`) still arrive from older SDKs and from LiteLLM, so they are kept.
"""

from __future__ import annotations

from dataclasses import dataclass

VERSIONS = ("2024-11-06", "2024-09-13")
"""`X-Runway-Version` values answered: the SDKs since 2.1 send the first."""

GEN4_RATIOS = ("1280:720", "720:1280", "1104:832", "960:960", "832:1104", "1584:672")
VEO_RATIOS = ("1280:720", "720:1280", "1080:1920", "1920:1080")
GEN3_RATIOS = ("1280:768", "768:1280")
GEN3_OLD_RATIOS = {"16:9": "1280:768", "9:16": "768:1280"}
"""The 2024-09-13 version's ratios for gen3a_turbo, as that version's clients send them."""
ALEPH_RATIOS = (*GEN4_RATIOS, "848:480", "640:480")
IMAGE_RATIOS = (
    "1024:1024", "1080:1080", "1168:880", "1360:768", "1440:1080", "1080:1440",
    "1808:768", "1920:1080", "1080:1920", "2112:912", "1280:720", "720:1280",
    "720:720", "960:720", "720:960", "1680:720",
)  # fmt: skip
PROMPT_MAX = 1000
"""promptText limit in UTF-16 code units (gen4 and veo families)."""


@dataclass(frozen=True)
class VideoModel:
    """An image-to-video or text-to-video model."""

    name: str
    ratios: tuple[str, ...]
    durations: tuple[int, ...]
    default_duration: int | None
    """None: `duration` is required."""
    prompt_required: bool
    positions: tuple[str, ...] = ("first",)
    """The `promptImage` positions it takes."""
    default_ratio: str | None = None
    """None: `ratio` is required."""
    audio: bool = False
    """Takes `audio` (and makes sound unless `audio: false`)."""


def _seconds(low: int, high: int) -> tuple[int, ...]:
    return tuple(range(low, high + 1))


IMAGE_TO_VIDEO = {
    m.name: m
    for m in (
        VideoModel("gen4.5", GEN4_RATIOS, _seconds(2, 10), None, True),
        VideoModel("gen4_turbo", GEN4_RATIOS, _seconds(2, 10), 10, False),
        VideoModel("veo3.1", VEO_RATIOS, (4, 6, 8), 8, False, ("first", "last"), audio=True),
        VideoModel("veo3.1_fast", VEO_RATIOS, (4, 6, 8), 8, False, ("first", "last"), audio=True),
        VideoModel("veo3", VEO_RATIOS, (8,), None, False),
        VideoModel("gen3a_turbo", GEN3_RATIOS, (5, 10), 10, True, ("first", "last"), "1280:768"),
    )
}
TEXT_TO_VIDEO = {
    m.name: m
    for m in (
        VideoModel("gen4.5", ("1280:720", "720:1280"), _seconds(2, 10), None, True),
        VideoModel("veo3.1", VEO_RATIOS, (4, 6, 8), 8, True, audio=True),
        VideoModel("veo3.1_fast", VEO_RATIOS, (4, 6, 8), 8, True, audio=True),
        VideoModel("veo3", VEO_RATIOS, (8,), None, True),
    )
}


@dataclass(frozen=True)
class RestyleModel:
    name: str
    prompt_required: bool
    ratios: tuple[str, ...] | None
    """None: any ratio string (the output follows the input video)."""
    max_references: int


VIDEO_TO_VIDEO = {
    m.name: m
    for m in (
        RestyleModel("gen4_aleph", True, ALEPH_RATIOS, 1),
        RestyleModel("aleph2", False, None, 1),
    )
}


@dataclass(frozen=True)
class ImageModel:
    name: str
    references_required: bool
    max_references: int = 3


TEXT_TO_IMAGE = {
    m.name: m for m in (ImageModel("gen4_image", False), ImageModel("gen4_image_turbo", True))
}

UPSCALE_RESOLUTIONS = {"720p": "720p", "1k": "1080p", "2k": "1440p", "4k": "4k"}
"""magnific_video_upscaler_creative's `resolution` -> the output's short side."""
VIDEO_UPSCALE = ("upscale_v1", "magnific_video_upscaler_creative")
SOUND_EFFECT = ("eleven_text_to_sound_v2",)
TEXT_TO_SPEECH = ("eleven_multilingual_v2",)
SOUND_SECONDS = (0.5, 30.0)
SOUND_DEFAULT_S = 5.0
"""A sound effect's length when `duration` is not given (Runway picks one from the text)."""


def all_models() -> tuple[str, ...]:
    """Every model name, once, in table order (`GET /v1/organization` lists them)."""
    names: dict[str, None] = {}
    for table in (IMAGE_TO_VIDEO, TEXT_TO_VIDEO, VIDEO_TO_VIDEO, TEXT_TO_IMAGE):
        names.update(dict.fromkeys(table))
    names.update(dict.fromkeys((*VIDEO_UPSCALE, *SOUND_EFFECT, *TEXT_TO_SPEECH)))
    return tuple(names)
