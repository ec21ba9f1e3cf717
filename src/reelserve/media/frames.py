"""Per-frame operations: fitting to a size, text overlays, the watermark, temporal resampling.

Everything here runs once per frame of every video, so the expensive parts
(font rasterisation, alpha masks) are computed once up front and the per-frame
work is a numpy blend over a small box.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from reelserve.engines.base import Frame

FloatArray = npt.NDArray[np.float32]

_ELLIPSIS = "…"


def fit_cover(frame: Frame, width: int, height: int) -> Frame:
    """Scale `frame` to cover width x height (aspect preserved), then centre-crop.

    The crop and the scale happen in one resampling pass (PIL's `box`), so no
    intermediate image is built. A frame that already has the size is returned
    as is (same object), which keeps the common case free.

    >>> fit_cover(np.zeros((1080, 1920, 3), np.uint8), 960, 960).shape
    (960, 960, 3)
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"target size must be positive, got {width}x{height}")
    src_h, src_w = frame.shape[:2]
    if (src_w, src_h) == (width, height):
        return frame
    # The largest centred source region with the target's aspect ratio.
    if src_w * height > width * src_h:
        crop_w, crop_h = src_h * width / height, float(src_h)
    else:
        crop_w, crop_h = float(src_w), src_w * height / width
    x0, y0 = (src_w - crop_w) / 2, (src_h - crop_h) / 2
    image = Image.fromarray(np.ascontiguousarray(frame))
    resized = image.resize(
        (width, height),
        Image.Resampling.BICUBIC,
        box=(x0, y0, x0 + crop_w, y0 + crop_h),
        # Large downscales go through a cheap box reduction first; visually identical.
        reducing_gap=3.0,
    )
    return np.asarray(resized, dtype=np.uint8).copy()


def load_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled font at `size` pixels (no font files needed on the host)."""
    return ImageFont.load_default(size=max(1, size))


def text_width(font: ImageFont.FreeTypeFont | ImageFont.ImageFont, text: str) -> float:
    """Advance width of `text` in pixels."""
    return float(font.getlength(text))


def wrap_text(
    text: str,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    max_width: float,
    max_lines: int,
) -> list[str]:
    """Greedy word wrap to `max_width` pixels; overflow ends the last line with "…".

    Words longer than a line are broken between characters.
    """
    words = text.split()
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if text_width(font, candidate) <= max_width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        while text_width(font, current) > max_width and len(current) > 1:
            cut = _fit_prefix(current, font, max_width)
            lines.append(current[:cut])
            current = current[cut:]
    if current:
        lines.append(current)
    if len(lines) <= max_lines:
        return lines
    kept = lines[:max_lines]
    kept[-1] = _truncate(kept[-1] + " " + lines[max_lines], font, max_width, force=True)
    return kept


def _fit_prefix(word: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: float) -> int:
    cut = len(word)
    while cut > 1 and text_width(font, word[:cut]) > width:
        cut -= 1
    return cut


def _truncate(
    text: str,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    max_width: float,
    *,
    force: bool = False,
) -> str:
    """`text` shortened with a trailing ellipsis until it fits (always marked when `force`)."""
    if not force and text_width(font, text) <= max_width:
        return text
    while text and text_width(font, text.rstrip() + _ELLIPSIS) > max_width:
        text = text[:-1]
    return text.rstrip() + _ELLIPSIS


# eq=False: the fields are arrays, which have no single truth value to compare.
@dataclass(frozen=True, eq=False)
class Overlay:
    """A pre-rendered premultiplied image to blend: `out = frame * keep + add`.

    `keep` is (h, w, 1) and `add` is (h, w, 3), both float32, so blending is two
    vectorised operations over the overlay's box only. Used for text (the
    watermark, prompts) and for the synthetic engine's sprites.
    """

    keep: FloatArray
    add: FloatArray
    _keep16: npt.NDArray[np.uint16] = field(init=False, repr=False)
    _add16: npt.NDArray[np.uint16] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Fixed-point copies (x256) for the full-opacity path, about twice as fast
        # as float32. Premultiplication (keep + alpha <= 1) bounds
        # region * keep + add + 127 by 65535, so uint16 cannot overflow.
        object.__setattr__(self, "_keep16", np.round(self.keep * 256).astype(np.uint16))
        object.__setattr__(self, "_add16", np.floor(self.add * 256).astype(np.uint16))

    @classmethod
    def from_alpha(cls, alpha: FloatArray, rgb: tuple[float, float, float]) -> Overlay:
        """A solid colour with an (h, w) alpha mask in [0, 1]."""
        a = alpha.astype(np.float32)[:, :, None]
        colour = np.asarray(rgb, dtype=np.float32)[None, None, :]
        return cls(keep=(1.0 - a).astype(np.float32), add=(a * colour).astype(np.float32))

    @property
    def width(self) -> int:
        return int(self.keep.shape[1])

    @property
    def height(self) -> int:
        return int(self.keep.shape[0])

    def cropped(self, width: int, height: int) -> Overlay:
        """The bottom-right `width` x `height` part (used to keep an overlay inside a region)."""
        return Overlay(
            self.keep[self.height - height :, self.width - width :],
            self.add[self.height - height :, self.width - width :],
        )

    def blend_into(self, frame: Frame, x: int, y: int, opacity: float = 1.0) -> None:
        """Blend in place with the top-left corner at (x, y), clipped to the frame.

        `opacity` in [0, 1] fades the whole overlay.
        """
        if opacity <= 0.0:
            return
        fh, fw = frame.shape[:2]
        x0, y0 = max(x, 0), max(y, 0)
        x1, y1 = min(x + self.width, fw), min(y + self.height, fh)
        if x0 >= x1 or y0 >= y1:
            return
        src = (slice(y0 - y, y1 - y), slice(x0 - x, x1 - x))
        region = frame[y0:y1, x0:x1]
        if opacity >= 1.0:
            fixed = region * self._keep16[src]
            fixed += self._add16[src]
            fixed += 127
            fixed >>= 8
            region[...] = fixed
            return
        keep = 1.0 - opacity * (1.0 - self.keep[src])
        blended = region * keep + opacity * self.add[src]
        # Values stay within [0, 255] by construction; +0.5 rounds instead of truncating.
        region[...] = (blended + 0.5).astype(np.uint8)


def render_text(
    lines: list[str],
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    *,
    align: str = "center",
    outline_opacity: float = 0.6,
) -> Overlay:
    """White text with a dark semi-transparent outline, cropped tightly to its ink.

    The outline keeps the text legible on any background, light or dark.
    """
    size = int(getattr(font, "size", 10))
    stroke = max(1, round(size / 12))
    # Lines are placed by hand: Pillow's multiline spacing grows with the stroke
    # width, which would misalign the fill and outline masks drawn below.
    if isinstance(font, ImageFont.FreeTypeFont):
        ascent, descent = font.getmetrics()
        line_height = ascent + descent
    else:
        line_height = size
    step = line_height + max(1, size // 5)
    widths = [text_width(font, line) for line in lines]
    pad = stroke + max(2, size // 4)  # room for the outline and glyph overhangs
    canvas_size = (
        math.ceil(max(widths, default=0.0)) + 2 * pad,
        step * (len(lines) - 1) + line_height + 2 * pad,
    )
    span = max(widths, default=0.0)
    offsets = [
        (span - w) / 2 if align == "center" else (span - w if align == "right" else 0.0)
        for w in widths
    ]

    def draw(stroke_width: int) -> npt.NDArray[np.float32]:
        mask = Image.new("L", canvas_size, 0)
        pen = ImageDraw.Draw(mask)
        for i, (line, offset) in enumerate(zip(lines, offsets, strict=True)):
            pen.text(
                (pad + offset, pad + i * step),
                line,
                fill=255,
                font=font,
                stroke_width=stroke_width,
                stroke_fill=255,
            )
        return np.asarray(mask, dtype=np.float32) / 255.0

    fill = draw(0)
    outline = draw(stroke) * outline_opacity
    rows = np.flatnonzero(outline.any(axis=1))
    cols = np.flatnonzero(outline.any(axis=0))
    if rows.size == 0:
        # Nothing visible (e.g. characters the bundled font lacks): an empty overlay.
        empty = np.zeros((0, 0, 1), dtype=np.float32)
        return Overlay(keep=empty, add=np.zeros((0, 0, 3), dtype=np.float32))
    crop = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    fill, outline = fill[crop], outline[crop]
    # Black outline first, then white fill over it: keep = (1-a_o)(1-a_f), add = 255 a_f.
    keep = ((1.0 - outline) * (1.0 - fill))[:, :, None].astype(np.float32)
    add = np.repeat((255.0 * fill)[:, :, None], 3, axis=2).astype(np.float32)
    return Overlay(keep=keep, add=add)


class Watermark:
    """Text burnt into the bottom-right corner of every frame of one size.

    The overlay is rendered once; `apply` only blends inside `box`, which always
    lies in the bottom-right quadrant (long text gets a smaller font, then an
    ellipsis).

    >>> mark = Watermark("reelserve", 1280, 720)
    >>> out = mark.apply(np.zeros((720, 1280, 3), np.uint8))
    """

    def __init__(self, text: str, width: int, height: int) -> None:
        text = " ".join(text.split())
        if not text:
            raise ValueError("watermark text must not be empty")
        if width <= 0 or height <= 0:
            raise ValueError(f"frame size must be positive, got {width}x{height}")
        self.text = text
        self.width = width
        self.height = height
        margin = max(2, round(0.025 * height))
        # The box must stay in the bottom-right quadrant, which bounds the text width.
        max_w = max(1, width // 2 - margin)
        max_h = max(1, height // 2 - margin)
        size = max(8, round(0.04 * height))
        font = load_font(size)
        while text_width(font, text) > max_w and size > 8:
            size = max(8, int(size * max_w / text_width(font, text)))
            font = load_font(size)
        overlay = render_text([_truncate(text, font, max_w)], font)
        # Tiny frames: clip rather than break the bottom-right guarantee.
        overlay = overlay.cropped(min(overlay.width, max_w), min(overlay.height, max_h))
        self._overlay = overlay
        x1, y1 = width - margin, height - margin
        self.box: tuple[int, int, int, int] = (x1 - overlay.width, y1 - overlay.height, x1, y1)

    def apply(self, frame: Frame) -> Frame:
        """A copy of `frame` with the watermark burnt in; `frame` is left untouched."""
        if frame.shape != (self.height, self.width, 3):
            raise ValueError(
                f"frame shape {frame.shape} does not match the watermark's "
                f"{(self.height, self.width, 3)}"
            )
        out = frame.copy()
        self._overlay.blend_into(out, self.box[0], self.box[1])
        return out


def resample_indices(src_frames: int, dst_frames: int) -> list[int]:
    """Nearest-neighbour temporal resampling: which source frame each output frame shows.

    Output frame i shows source frame floor(i * src_frames / dst_frames), so the
    first frame is kept, frames are repeated when stretching and skipped when
    squeezing, and the mapping never runs past the source.

    >>> resample_indices(4, 8)
    [0, 0, 1, 1, 2, 2, 3, 3]
    >>> resample_indices(6, 3)
    [0, 2, 4]
    """
    if src_frames <= 0:
        raise ValueError(f"src_frames must be positive, got {src_frames}")
    if dst_frames < 0:
        raise ValueError(f"dst_frames must not be negative, got {dst_frames}")
    return [i * src_frames // dst_frames for i in range(dst_frames)]
