"""Cover art for a track: a procedural landscape from its title and style, with the title on it.

Not AI: `image.landscape` (sky, sun, hills and shapes placed by a seeded
generator) seeded by (title, style, seed), a darker band across the lower
third and the title written in it. Square, RGB uint8, 512x512 by default;
about 20 ms.
"""

from __future__ import annotations

import numpy as np

from reelserve.engines.base import Frame
from reelserve.engines.synthetic.image import landscape
from reelserve.media.frames import load_font, render_text, wrap_text

COVER_SIZE = 512


def cover(title: str, style: str, seed: int, size: int = COVER_SIZE) -> Frame:
    """Square RGB art for a track called `title` in `style`."""
    art = landscape(f"{title} | {style}", seed, size, size)
    band_top = round(size * 0.68)
    art[band_top:] = (art[band_top:].astype(np.float32) * 0.45).astype(np.uint8)
    text = " ".join(title.split()) or "Untitled"
    font = load_font(max(12, size // 14))
    overlay = render_text(wrap_text(text, font, 0.88 * size, max_lines=2), font)
    overlay = overlay.cropped(min(overlay.width, size), min(overlay.height, size - band_top))
    x = (size - overlay.width) // 2
    y = band_top + (size - band_top - overlay.height) // 2
    overlay.blend_into(art, x, y)
    return art
