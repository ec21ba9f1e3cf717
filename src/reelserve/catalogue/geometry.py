"""Output sizes of market models (spec §2 Decisions — geometry, tools' geometry).

**Decision — market video sizes.** 720p and 1080p are the Runway table
(`tasks.geometry`). 360p and 480p (and any other `<N>p`: 540p, 580p, 768P...)
are the 720p size scaled by N/720, rounded down to even numbers (yuv420p needs
even sides); `4k` is 2160p:

| ratio | 360p | 480p |
|---|---|---|
| 16:9 | 640×360 | 852×480 |
| 9:16 | 360×640 | 480×852 |
| 1:1 | 480×480 | 640×640 |
| 4:3 | 480×360 | 640×480 |
| 3:4 | 360×480 | 480×640 |

That holds for the five Runway ratios. For any other ratio (21:9, 2:3, 9:21,
an input's own ratio...) the short side is the resolution's number and the
long side is short × ratio, both rounded to even.

**Decision — image sizes.** 1024 px on the long side at the ratio; a
`resolution` of 1K/2K/4K makes the long side 1024/2048/4096. The fal-style
presets map to ratios (`square`, `square_hd` 1:1, `portrait_4_3` 3:4,
`portrait_3_2` 2:3, `portrait_16_9` 9:16, `landscape_4_3` 4:3, `landscape_3_2`
3:2, `landscape_16_9` 16:9, `landscape_21_9` 21:9); Sora's `portrait` and
`landscape` are 9:16 and 16:9. `auto`/`adaptive` take the input's ratio, else
16:9 (video) or 1:1 (image).
"""

from __future__ import annotations

import math
import re

from reelserve.tasks import geometry as runway

AUTO = "auto"
IMAGE_LONG_SIDES = {"1K": 1024, "2K": 2048, "4K": 4096}
DEFAULT_VIDEO_RATIO, DEFAULT_IMAGE_RATIO = "16:9", "1:1"
DEFAULT_VIDEO_RESOLUTION, DEFAULT_IMAGE_RESOLUTION = "720p", "1K"
PRESETS = {
    "square": "1:1",
    "square_hd": "1:1",
    "portrait_4_3": "3:4",
    "portrait_3_2": "2:3",
    "portrait_16_9": "9:16",
    "landscape_4_3": "4:3",
    "landscape_3_2": "3:2",
    "landscape_16_9": "16:9",
    "landscape_21_9": "21:9",
    "portrait": "9:16",
    "landscape": "16:9",
}
_RATIO = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)\s*$")
_P = re.compile(r"^(\d{3,4})p$")


def market_size(resolution: str, aspect_ratio: str) -> tuple[int, int]:
    """(width, height) of one of the five ratios, e.g. ("480p", "16:9") -> (852, 480)."""
    if resolution in runway.QUALITIES:
        return runway.output_size(aspect_ratio, resolution)
    width, height = runway.output_size(aspect_ratio, "720p")
    scale = short_side(resolution)
    return (width * scale // 720) // 2 * 2, (height * scale // 720) // 2 * 2


def normal_ratio(value: object) -> str | None:
    """A ratio field's value as "W:H" or "auto"; None when it is not a ratio."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.lower() in (AUTO, "adaptive"):
        return AUTO
    if text in PRESETS:
        return PRESETS[text]
    match = _RATIO.match(text)
    if match and float(match[1]) > 0 and float(match[2]) > 0:
        return f"{match[1]}:{match[2]}"
    return None


def ratio_value(ratio: str) -> float:
    width, height = ratio.split(":")
    return float(width) / float(height)


def video_resolution(value: object) -> str | None:
    """A video resolution, normalized ("768P" -> "768p", "4K" -> "4k"), or None."""
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    if text in ("4k", "2160p"):
        return "4k"
    return text if _P.match(text) else None


def short_side(resolution: str) -> int:
    return 2160 if resolution == "4k" else int(resolution.removesuffix("p"))


def video_size(ratio: str | float, resolution: str) -> tuple[int, int]:
    """The size of a video at `ratio` ("W:H" or width/height) and `resolution` (see above)."""
    if isinstance(ratio, str) and ratio in runway.ASPECT_RATIOS:
        return market_size("2160p" if resolution == "4k" else resolution, ratio)
    value = ratio_value(ratio) if isinstance(ratio, str) else ratio
    short = short_side(resolution)
    long = _even(short * max(value, 1 / value))
    return (long, short) if value >= 1 else (short, long)


def image_size(ratio: str | float, resolution: str) -> tuple[int, int]:
    """The size of an image at `ratio` with the long side of `resolution` (1K/2K/4K)."""
    value = ratio_value(ratio) if isinstance(ratio, str) else ratio
    long = IMAGE_LONG_SIDES.get(resolution.upper(), 1024)
    short = max(1, round(long / max(value, 1 / value)))
    return (long, short) if value >= 1 else (short, long)


def ratio_text(width: int, height: int) -> str:
    """The reduced ratio of a size, e.g. (1920, 1080) -> "16:9"."""
    divisor = math.gcd(width, height) or 1
    return f"{width // divisor}:{height // divisor}"


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)
