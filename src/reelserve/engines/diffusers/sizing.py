"""Choosing what a model generates: its native pixel area at the request's aspect, r·k+1 frames."""

from __future__ import annotations

import math

import numpy as np

from reelserve.media.frames import fit_cover, resample_indices


def native_size(
    width: int, height: int, native_width: int, native_height: int, multiple: int
) -> tuple[int, int]:
    """The native pixel area at the request's aspect ratio, both sides multiples of `multiple`.

    LTX renders 768×512 for a 3:2 request and 512×768 for 2:3 rather than
    rendering landscape and cropping a portrait out of it.

    >>> native_size(1280, 720, 768, 512, 32)
    (832, 480)
    """
    area = native_width * native_height
    aspect = width / height
    w = math.sqrt(area * aspect)
    h = area / w
    return (
        max(multiple, round(w / multiple) * multiple),
        max(multiple, round(h / multiple) * multiple),
    )


def floor_frames(count: int, ratio: int) -> int:
    """The largest r·k+1 <= count (at least 1): frame counts a video VAE with ratio r accepts."""
    return max(1, (max(1, count) - 1) // ratio * ratio + 1)


def ceil_frames(count: int, ratio: int) -> int:
    """The smallest r·k+1 >= count."""
    return max(1, math.ceil((max(1, count) - 1) / ratio) * ratio + 1)


def generation_frames(seconds: float, fps: int, most: int, ratio: int) -> int:
    """Frames to generate for `seconds` at `fps`: enough to cover it, at most `most`."""
    return min(floor_frames(most, ratio), ceil_frames(round(seconds * fps), ratio))


def fit_video(frames: np.ndarray, count: int, width: int, height: int) -> list[np.ndarray]:
    """`count` frames spread evenly over `frames` (nearest in time), each fitted to width×height."""
    picked = resample_indices(len(frames), count)
    return [fit_cover(np.asarray(frames[i]), width, height) for i in picked]


def to_uint8(frames: np.ndarray) -> np.ndarray:
    """Pipeline output (floats in [0, 1]) as uint8 RGB."""
    return np.clip(np.rint(np.asarray(frames) * 255.0), 0, 255).astype(np.uint8)
