"""The music_video operation: the track's cover with a spectrum visualiser driven by the audio.

Procedural, not AI. Everything that does not move is drawn once: the cover
fitted to the frame (or, without one, a gradient in colours hashed from the
title), darkened by a vignette and toward the bottom so the bars stand out,
the title and author at the top left, the domain name as a watermark at the
bottom (PIL's bundled font rendered into overlays, composited in numpy),
the progress line's track, and a copy of the bar area already in the bar
colour. The audio is analysed once too: for every frame, the power in
BARS log-spaced bands (40 Hz to 16 kHz) of a ~46 ms window centred on the
frame's time, tilted +3 dB/octave (so a typical mix looks level), in dB
under the track's loudest, with an instant attack and a ~0.3 s release
(a bar is empty about a second into silence).

Each frame is then the backdrop copied, the bars selected from the coloured
copy with one boolean mask, and the progress line filled to the frame's
time: ~1-2 ms per 960x540 frame. Frames are yielded lazily.

Limits: the cover does not move (the vignette is static); no beat
detection (the bars are the only motion); text the bundled font lacks is
left out; long titles wrap to two lines and then end with an ellipsis.
"""

from __future__ import annotations

import colorsys
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from reelserve.engines.base import Audio, EngineError, EngineOutput, EngineRequest, Frame
from reelserve.engines.synthetic.dsp import stable_fraction
from reelserve.media.frames import fit_cover, load_font, render_text, wrap_text

Floats = npt.NDArray[np.float32]
Ints = npt.NDArray[np.int64]

BARS = 48
LOW_HZ, HIGH_HZ = 40.0, 16000.0
WINDOW_S = 0.046
RANGE_DB = 48.0
"""Bars span this many dB under the track's loudest band."""
TILT_DB_PER_OCTAVE = 3.0
RELEASE_S = 0.3
FLOOR = 0.03
MAX_TEXT = 50
"""`author` and `domain_name` are cut to this many characters (KIE's limit)."""
_CHUNK = 512


def music_video(request: EngineRequest) -> EngineOutput:
    """Frames of `request.num_frames` at `request.fps`; the track is the soundtrack."""
    audio = request.audio
    if audio is None or len(audio.samples) == 0:
        raise EngineError("music_video needs the track's audio", fail_code=400)
    width, height, count = request.width, request.height, request.num_frames
    if width <= 0 or height <= 0 or count <= 0:
        raise EngineError(f"music_video needs a size and frames, got {width}x{height}x{count}")
    layout = Layout.of(width, height)
    backdrop = _backdrop(request, layout)
    bars = _bar_colours(backdrop, layout, _accent(backdrop))
    levels = band_levels(audio, count, request.fps)
    frames = _frames(backdrop, bars, levels, layout, _accent(backdrop))
    return EngineOutput(frames, count, width, height, float(request.fps), audio=audio)


@dataclass(frozen=True)
class Layout:
    """Where things go on a width x height frame (pixels)."""

    width: int
    height: int
    bars_left: int
    bars_right: int
    bars_top: int
    bars_bottom: int
    column_bar: Ints
    """For each column of the bar area, its bar's index, or -1 in a gap."""
    line_top: int
    line_bottom: int

    @classmethod
    def of(cls, width: int, height: int) -> Layout:
        left, right = round(0.05 * width), max(round(0.95 * width), round(0.05 * width) + 1)
        bottom = max(2, round(0.86 * height))
        top = min(bottom - 1, max(0, round(0.56 * height)))
        slot = (np.arange(right - left) + 0.5) * BARS / (right - left)
        index = np.floor(slot).astype(np.int64)
        in_bar = (slot - index) < 0.72
        line_top = min(height - 1, round(0.895 * height))
        line_bottom = min(height, line_top + max(2, round(height / 160)))
        return cls(
            width=width,
            height=height,
            bars_left=left,
            bars_right=right,
            bars_top=top,
            bars_bottom=bottom,
            column_bar=np.where(in_bar, index, -1),
            line_top=line_top,
            line_bottom=line_bottom,
        )


# --- the audio ------------------------------------------------------------------------


def band_levels(audio: Audio, count: int, fps: float) -> Floats:
    """(count, BARS) bar heights in 0..1: band power around each frame's time, smoothed."""
    samples = audio.samples
    mono = (samples.mean(axis=1) if samples.ndim == 2 else samples).astype(np.float32)
    rate = audio.sample_rate
    n_fft = int(2 ** max(8, round(math.log2(max(1, rate) * WINDOW_S))))
    padded = np.concatenate([np.zeros(n_fft, np.float32), mono, np.zeros(n_fft, np.float32)])
    centres = np.round(np.arange(count) / fps * rate).astype(np.int64) + n_fft
    lo, hi, tilt = _band_bins(n_fft, rate)
    window = np.hanning(n_fft).astype(np.float32)
    # A full-scale sine puts (sum(window) / 2)^2 into its bin: that is 0 dB.
    scale = 1.0 / (float(window.sum()) / 2) ** 2
    offsets = np.arange(n_fft) - n_fft // 2
    decibels = np.empty((count, BARS), dtype=np.float32)
    for first in range(0, count, _CHUNK):
        index = np.clip(centres[first : first + _CHUNK, None] + offsets, 0, len(padded) - 1)
        power = np.abs(np.fft.rfft(padded[index] * window, axis=1)) ** 2 * scale
        cumulative = np.concatenate([np.zeros((len(power), 1)), np.cumsum(power, axis=1)], axis=1)
        band = (cumulative[:, hi] - cumulative[:, lo]) / (hi - lo)
        decibels[first : first + _CHUNK] = 10 * np.log10(np.maximum(band, 1e-20)) + tilt
    loudest = max(float(np.percentile(decibels, 99.5)), -40.0)
    raw = np.clip((decibels - (loudest - RANGE_DB)) / RANGE_DB, 0.0, 1.0)
    return _released(raw, math.exp(-1.0 / max(1e-3, RELEASE_S * fps)))


def _band_bins(n_fft: int, rate: int) -> tuple[Ints, Ints, Floats]:
    """Each band's first and past-last bins (at least one bin each) and its tilt in dB."""
    top = min(HIGH_HZ, 0.45 * rate)
    edges = np.geomspace(LOW_HZ, top, BARS + 1)
    bin_hz = rate / n_fft
    lo = np.clip(np.round(edges[:-1] / bin_hz).astype(np.int64), 1, n_fft // 2)
    hi = np.clip(np.round(edges[1:] / bin_hz).astype(np.int64), 1, n_fft // 2 + 1)
    hi = np.maximum(hi, lo + 1)
    centre = np.sqrt(edges[:-1] * edges[1:])
    tilt = (TILT_DB_PER_OCTAVE * np.log2(centre / 1000.0)).astype(np.float32)
    return lo, hi, tilt


def _released(raw: Floats, decay: float) -> Floats:
    """Instant attack, exponential release: each frame is at least `decay` times the last.

    Levels under FLOOR then count as nothing, so a bar falls all the way in silence.
    """
    smoothed = raw.copy()
    for i in range(1, len(smoothed)):
        np.maximum(smoothed[i], smoothed[i - 1] * decay, out=smoothed[i])
    levels: Floats = np.maximum(smoothed - FLOOR, 0.0) / np.float32(1.0 - FLOOR)
    return levels


# --- the pictures -----------------------------------------------------------------------


def _backdrop(request: EngineRequest, layout: Layout) -> Frame:
    """The static picture: cover (or gradient), vignette, text and the progress line's track."""
    width, height = layout.width, layout.height
    title = str(request.params.get("title") or "").strip()
    if request.image is not None:
        cover = fit_cover(np.ascontiguousarray(request.image[..., :3]), width, height)
        picture = cover.astype(np.float32)
    else:
        picture = _gradient(width, height, title or request.prompt)
    y = (np.arange(height, dtype=np.float32)[:, None] + 0.5) / height
    x = (np.arange(width, dtype=np.float32)[None, :] + 0.5) / width
    radius = ((x - 0.5) / 0.75) ** 2 + ((y - 0.5) / 0.75) ** 2
    bottom = np.clip((y - 0.5) / 0.45, 0.0, 1.0)
    shade = (1.0 - 0.55 * radius) * (1.0 - 0.45 * bottom * bottom * (3 - 2 * bottom))
    backdrop = np.clip(picture * np.clip(shade, 0.15, 1.0)[:, :, None] + 0.5, 0, 255)
    frame = backdrop.astype(np.uint8)
    track = frame[layout.line_top : layout.line_bottom]
    track[...] = (track.astype(np.float32) * 0.5 + 255 * 0.25).astype(np.uint8)
    _draw_text(frame, request, title)
    return frame


def _gradient(width: int, height: int, seed_text: str) -> Floats:
    """A diagonal two-colour gradient whose hues come from `seed_text`."""
    hue = stable_fraction("music_video", seed_text)
    first = np.asarray(colorsys.hsv_to_rgb(hue, 0.7, 0.75), dtype=np.float32) * 255
    second = np.asarray(colorsys.hsv_to_rgb((hue + 0.35) % 1.0, 0.8, 0.35), dtype=np.float32) * 255
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :, None]
    mix = np.clip(0.65 * y + 0.35 * x, 0.0, 1.0)
    gradient: Floats = first * (1 - mix) + second * mix
    return gradient


def _draw_text(frame: Frame, request: EngineRequest, title: str) -> None:
    width, height = frame.shape[1], frame.shape[0]
    author = str(request.params.get("author") or "").strip()[:MAX_TEXT]
    domain = str(request.params.get("domain_name") or "").strip()[:MAX_TEXT]
    x, y = round(0.05 * width), round(0.06 * height)
    if title:
        font = load_font(max(10, round(0.07 * height)))
        lines = wrap_text(title, font, 0.9 * width, max_lines=2)
        overlay = render_text(lines, font, align="left")
        overlay.blend_into(frame, x, y)
        y += overlay.height + round(0.01 * height)
    if author:
        font = load_font(max(8, round(0.042 * height)))
        overlay = render_text(wrap_text(author, font, 0.9 * width, max_lines=1), font, align="left")
        overlay.blend_into(frame, x, y, opacity=0.9)
    if domain:
        font = load_font(max(8, round(0.034 * height)))
        overlay = render_text(wrap_text(domain, font, 0.9 * width, max_lines=1), font)
        top = min(height - overlay.height, round(0.925 * height))
        overlay.blend_into(frame, (width - overlay.width) // 2, top, opacity=0.75)


def _accent(backdrop: Frame) -> Floats:
    """A bright colour in the cover's hue, for the bars and the progress line."""
    mean = backdrop.reshape(-1, 3).mean(axis=0) / 255.0
    hue, saturation, _ = colorsys.rgb_to_hsv(float(mean[0]), float(mean[1]), float(mean[2]))
    accent = colorsys.hsv_to_rgb(hue, min(0.6, max(0.25, saturation + 0.2)), 1.0)
    return np.asarray(accent, dtype=np.float32) * 255


def _bar_colours(backdrop: Frame, layout: Layout, accent: Floats) -> Frame:
    """The bar area as it looks under a full bar: the accent over the backdrop, brighter on top."""
    region = backdrop[layout.bars_top : layout.bars_bottom, layout.bars_left : layout.bars_right]
    rows = len(region)
    strength = np.linspace(0.9, 0.6, rows, dtype=np.float32)[:, None, None]
    coloured = region.astype(np.float32) * (1 - strength) + accent * strength
    return np.clip(coloured + 0.5, 0, 255).astype(np.uint8)


def _frames(
    backdrop: Frame, bars: Frame, levels: Floats, layout: Layout, accent: Floats
) -> Iterator[Frame]:
    rows = layout.bars_bottom - layout.bars_top
    depth = np.arange(rows, dtype=np.float32)[::-1][:, None] + 1.0  # height above the bottom
    in_bar = layout.column_bar >= 0
    bar_of_column = np.maximum(layout.column_bar, 0)
    line = np.clip(accent + 0.5, 0, 255).astype(np.uint8)
    count = len(levels)
    for i in range(count):
        frame = backdrop.copy()
        heights = np.where(in_bar, levels[i][bar_of_column] * rows, 0.0)
        mask = depth <= heights[None, :]
        area = frame[layout.bars_top : layout.bars_bottom, layout.bars_left : layout.bars_right]
        np.copyto(area, bars, where=mask[:, :, None])
        filled = round(layout.width * (i / (count - 1) if count > 1 else 1.0))
        frame[layout.line_top : layout.line_bottom, :filled] = line
        yield frame
