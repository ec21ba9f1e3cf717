"""Output geometry (spec §1.1 Decision): sizes by aspect ratio and quality, 24 fps."""

from __future__ import annotations

import math

FPS = 24
EXTENSION_SECONDS = 5

ASPECT_RATIOS: tuple[str, ...] = ("16:9", "4:3", "1:1", "3:4", "9:16")
QUALITIES: tuple[str, ...] = ("720p", "1080p")

_SIZES: dict[tuple[str, str], tuple[int, int]] = {
    ("16:9", "720p"): (1280, 720),
    ("16:9", "1080p"): (1920, 1080),
    ("9:16", "720p"): (720, 1280),
    ("9:16", "1080p"): (1080, 1920),
    ("1:1", "720p"): (960, 960),
    ("1:1", "1080p"): (1440, 1440),
    ("4:3", "720p"): (960, 720),
    ("4:3", "1080p"): (1440, 1080),
    ("3:4", "720p"): (720, 960),
    ("3:4", "1080p"): (1080, 1440),
}


def output_size(aspect_ratio: str, quality: str) -> tuple[int, int]:
    """(width, height) of a Runway-family video, e.g. ("16:9", "720p") -> (1280, 720)."""
    return _SIZES[(aspect_ratio, quality)]


def ratio_value(aspect_ratio: str) -> float:
    w, h = aspect_ratio.split(":")
    return int(w) / int(h)


def nearest_ratio(width: int, height: int) -> str:
    """The table ratio closest to width/height, compared on a log scale (2:1 and 1:2 alike)."""
    own = math.log(width / height)
    return min(ASPECT_RATIOS, key=lambda r: abs(math.log(ratio_value(r)) - own))


def frame_count(duration_s: int) -> int:
    return FPS * duration_s
