"""The procedural scene shared by the synthetic video and image operations.

A prompt and seed are hashed into a `Look` (palette, wave pattern, sprites and
how they move); `Scene` renders it: a scrolling two-axis colour wave, sprites
and the prompt drawn near the top. Not AI: every pixel follows from the hash.
"""

from __future__ import annotations

import colorsys
import hashlib
import math
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from PIL import Image

from reelserve.engines.base import EngineRequest, Frame
from reelserve.media.frames import Overlay, load_font, render_text
from reelserve.media.frames import wrap_text as _wrap

FloatArray = npt.NDArray[np.float64]
Colour = tuple[float, float, float]

# Minimum distance (per channel, 0..255) between the scene's mean colour and the
# image's, so even a flat image visibly changes (mean |first - last| >= 0.4 * this).
_MIN_CONTRAST = 90.0


def smoothstep(p: float) -> float:
    p = min(max(p, 0.0), 1.0)
    return p * p * (3.0 - 2.0 * p)


@dataclass(frozen=True)
class Sprite:
    overlay: Overlay
    phase_x: float
    phase_y: float
    freq_x: float
    freq_y: float


@dataclass(frozen=True)
class Look:
    """Everything about a video's appearance, derived from the prompt and the seed."""

    palette: tuple[Colour, Colour, Colour]
    waves: tuple[float, float, float, float, float, float]  # kx, ky, speed x/y, phase x/y
    motion: str
    sprites: tuple[Sprite, ...]
    drift: tuple[float, float]


def rng_for(request: EngineRequest) -> np.random.Generator:
    # hashlib, not hash(): Python's string hash is salted per process.
    digest = hashlib.sha256(request.prompt.encode("utf-8")).digest()
    words = [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 32, 4)]
    return np.random.default_rng(np.random.SeedSequence([*words, request.seed & (2**64 - 1)]))


def make_look(request: EngineRequest) -> Look:
    rng = rng_for(request)
    hue = float(rng.random())
    c0, c1, c2 = (
        hsv(hue + offset, float(rng.uniform(0.55, 0.95)), float(rng.uniform(0.35, 0.95)))
        for offset in (0.0, float(rng.uniform(0.25, 0.42)), float(rng.uniform(0.55, 0.75)))
    )
    palette = (c0, c1, c2)
    waves = (
        # At least one period per frame side bounds the canvas at 4 frames.
        float(rng.uniform(1.0, 2.2)),
        float(rng.uniform(1.0, 1.8)),
        float(rng.uniform(0.08, 0.35) * rng.choice([-1, 1])),
        float(rng.uniform(0.08, 0.35) * rng.choice([-1, 1])),
        float(rng.uniform(0, 2 * math.pi)),
        float(rng.uniform(0, 2 * math.pi)),
    )
    motion = str(rng.choice(["lissajous", "bounce", "orbit"]))
    short = min(request.width, request.height)
    sprites = []
    for k in range(int(rng.integers(3, 6))):
        radius = max(2, round(short * float(rng.uniform(0.05, 0.11))))
        base = palette[(k + 1) % 3]
        tone = 255.0 if k % 2 == 0 else 0.0
        colour: Colour = (
            0.5 * base[0] + 0.5 * tone,
            0.5 * base[1] + 0.5 * tone,
            0.5 * base[2] + 0.5 * tone,
        )
        shape = str(rng.choice(["disk", "ring", "square"]))
        sprites.append(
            Sprite(
                overlay=Overlay.from_alpha(sprite_alpha(shape, radius) * 0.9, colour),
                phase_x=float(rng.uniform(0, 1)),
                phase_y=float(rng.uniform(0, 1)),
                freq_x=float(rng.uniform(0.08, 0.3)),
                freq_y=float(rng.uniform(0.08, 0.3)),
            )
        )
    drift = (float(rng.uniform(-1, 1)), float(rng.uniform(-1, 1)))
    return Look(palette, waves, motion, tuple(sprites), drift)


def hsv(h: float, s: float, v: float) -> Colour:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return (255.0 * r, 255.0 * g, 255.0 * b)


def sprite_alpha(shape: str, radius: int) -> npt.NDArray[np.float32]:
    coords = np.arange(2 * radius + 2, dtype=np.float32) - (radius + 0.5)
    dx, dy = np.abs(coords)[None, :], np.abs(coords)[:, None]
    # clip(r - distance + 0.5) gives a one-pixel antialiased edge.
    alpha: npt.NDArray[np.float32]
    if shape == "square":
        alpha = np.clip(radius - np.maximum(dx, dy) + 0.5, 0, 1)
    else:
        dist = np.sqrt(dx * dx + dy * dy)
        alpha = np.clip(radius - dist + 0.5, 0, 1)
        if shape == "ring":
            alpha = alpha - np.clip(0.55 * radius - dist + 0.5, 0, 1)
    return alpha.astype(np.float32)


def _position(motion: str, sprite: Sprite, t: float) -> tuple[float, float]:
    """Sprite centre at time t, as fractions of the frame size."""
    ax = 2 * math.pi * (sprite.freq_x * t + sprite.phase_x)
    ay = 2 * math.pi * (sprite.freq_y * t + sprite.phase_y)
    if motion == "bounce":
        return _triangle(sprite.freq_x * 1.5 * t + sprite.phase_x), _triangle(
            sprite.freq_y * 1.5 * t + sprite.phase_y
        )
    if motion == "orbit":
        radius = 0.18 + 0.22 * sprite.phase_y
        return 0.5 + radius * math.cos(ax), 0.5 + radius * math.sin(ax)
    return 0.5 + 0.42 * math.sin(ax), 0.5 + 0.4 * math.sin(ay)


def motion_speed(look: Look, times: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Mean sprite speed (frame sizes per second) at each time: what the soundtrack pulses with."""
    dt = 1e-3
    speed = np.zeros(len(times))
    for sprite in look.sprites:
        for i, t in enumerate(times):
            x0, y0 = _position(look.motion, sprite, float(t))
            x1, y1 = _position(look.motion, sprite, float(t) + dt)
            speed[i] += math.hypot(x1 - x0, y1 - y0) / dt
    result: npt.NDArray[np.float64] = speed / max(1, len(look.sprites))
    return result


def _triangle(x: float) -> float:
    """Back and forth between 0.08 and 0.92 with period 1."""
    return 0.08 + 0.84 * (1.0 - abs(2.0 * (x % 1.0) - 1.0))


class Scene:
    """The prompt's procedural scene: a moving two-axis colour wave plus sprites and text.

    The background is rows(y) + cols(x) with waves of whole-pixel periods, so
    it is periodic and its motion is a scroll: it is rendered once onto a
    canvas one period larger than the frame, and each frame copies a window.
    """

    def __init__(self, request: EngineRequest, look: Look) -> None:
        self.width, self.height = request.width, request.height
        self.look = look
        kx, ky, _, _, _, _ = look.waves
        self._period_x = max(2, round(self.width / kx))
        self._period_y = max(2, round(self.height / ky))
        self._canvas: Frame | None = None
        self.text = prompt_overlay(request.prompt, self.width, self.height)

    def with_palette(self, palette: tuple[Colour, Colour, Colour]) -> Scene:
        clone = object.__new__(Scene)
        clone.__dict__.update(self.__dict__)
        clone.look = replace(self.look, palette=palette)
        clone._canvas = None
        return clone

    def _offsets(self, t: float) -> tuple[int, int]:
        _, _, sx, sy, _, _ = self.look.waves
        return (
            round(sx * t * self._period_x) % self._period_x,
            round(sy * t * self._period_y) % self._period_y,
        )

    def _terms(self, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        _, _, _, _, px, py = self.look.waves
        u = 0.5 + 0.5 * np.sin(2 * math.pi * x / self._period_x + px)
        v = 0.5 + 0.5 * np.sin(2 * math.pi * y / self._period_y + py)
        c0, c1, c2 = (np.asarray(c, dtype=np.float64)[:, None] for c in self.look.palette)
        # Each term is at most 127.5, so their uint8 sum cannot overflow.
        cols = np.floor(0.5 * (c0 + (c1 - c0) * u[None, :]))
        rows = np.floor(0.5 * (c0 + (c2 - c0) * v[None, :]))
        return cols, rows

    def axes(self, t: float) -> tuple[FloatArray, FloatArray]:
        """Per-channel column (3, W) and row (3, H) terms at time t; the background is their sum."""
        dx, dy = self._offsets(t)
        return self._terms(
            np.arange(dx, dx + self.width, dtype=np.float64),
            np.arange(dy, dy + self.height, dtype=np.float64),
        )

    def window(self, t: float) -> Frame:
        """The background at time t: a read-only view into the canvas."""
        if self._canvas is None:
            cols, rows = self._terms(
                np.arange(self.width + self._period_x, dtype=np.float64),
                np.arange(self.height + self._period_y, dtype=np.float64),
            )
            planes = cols.astype(np.uint8)[:, None, :] + rows.astype(np.uint8)[:, :, None]
            self._canvas = np.ascontiguousarray(planes.transpose(1, 2, 0))
        dx, dy = self._offsets(t)
        return self._canvas[dy : dy + self.height, dx : dx + self.width]

    def background(self, t: float) -> Image.Image:
        return Image.fromarray(np.ascontiguousarray(self.window(t)))

    def draw_sprites(self, frame: Frame, t: float, opacity: float = 1.0) -> None:
        for sprite in self.look.sprites:
            fx, fy = _position(self.look.motion, sprite, t)
            x = round(fx * self.width) - sprite.overlay.width // 2
            y = round(fy * self.height) - sprite.overlay.height // 2
            sprite.overlay.blend_into(frame, x, y, opacity)

    def draw_text(self, frame: Frame, opacity: float = 1.0) -> None:
        if self.text is not None:
            overlay, x, y = self.text
            overlay.blend_into(frame, x, y, opacity)

    def frame(self, t: float) -> Frame:
        frame = self.window(t).copy()
        self.draw_sprites(frame, t)
        self.draw_text(frame)
        return frame


def prompt_overlay(prompt: str, width: int, height: int) -> tuple[Overlay, int, int] | None:
    """The prompt as up to three centred lines near the top (clear of the watermark corner)."""
    text = " ".join(prompt.split())
    if not text:
        return None
    font = load_font(max(10, round(0.05 * height)))
    lines = _wrap(text, font, 0.86 * width, max_lines=3)
    overlay = render_text(lines, font)
    overlay = overlay.cropped(min(overlay.width, width), min(overlay.height, height // 2))
    return overlay, (width - overlay.width) // 2, round(0.05 * height)


def contrasting_palette(
    scene: Scene, image_mean: FloatArray, t_end: float
) -> tuple[Colour, Colour, Colour]:
    """Shift the palette per channel so the final scene's mean colour is far from the image's.

    Blending toward a scene that happens to share the image's colours would
    leave a flat image almost unchanged; this keeps every video visibly moving.
    """
    cols, rows = scene.axes(t_end)
    scene_mean = cols.mean(axis=1) + rows.mean(axis=1)
    offsets = np.zeros(3)
    for c in range(3):
        if abs(scene_mean[c] - image_mean[c]) < _MIN_CONTRAST:
            target = image_mean[c] + (_MIN_CONTRAST if image_mean[c] < 127.5 else -_MIN_CONTRAST)
            offsets[c] = target - scene_mean[c]

    def shifted(colour: Colour) -> Colour:
        r, g, b = (float(np.clip(colour[c] + offsets[c], 0, 255)) for c in range(3))
        return (r, g, b)

    c0, c1, c2 = scene.look.palette
    return (shifted(c0), shifted(c1), shifted(c2))
