"""The `synthetic` engine: procedural videos on the CPU, for development, tests and demos.

Not AI. A prompt is hashed into a "look" (palette, wave pattern, sprites and
how they move) and the prompt text is drawn on the frames, so different
prompts give visibly different videos and the same request gives
bit-identical frames. Frames are produced lazily, a few milliseconds each.
"""

from __future__ import annotations

import colorsys
import hashlib
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np
import numpy.typing as npt
from PIL import Image

from reelserve.engines.base import (
    Capability,
    Engine,
    EngineError,
    EngineOutput,
    EngineRequest,
    Frame,
    ProgressFn,
)
from reelserve.media.frames import Overlay, fit_cover, load_font, render_text, resample_indices
from reelserve.media.frames import wrap_text as _wrap

FloatArray = npt.NDArray[np.float64]
Colour = tuple[float, float, float]

# image_to_video / extend: how far the picture drifts toward the prompt's scene.
_BLEND_END = 0.4
_ZOOM_END = 1.15
# Minimum distance (per channel, 0..255) between the scene's mean colour and the
# image's, so even a flat image visibly changes (mean |first - last| >= 0.4 * this).
_MIN_CONTRAST = 90.0
_TEXT_FADE_S = 1.0


def _smoothstep(p: float) -> float:
    p = min(max(p, 0.0), 1.0)
    return p * p * (3.0 - 2.0 * p)


@dataclass(frozen=True)
class _Sprite:
    overlay: Overlay
    phase_x: float
    phase_y: float
    freq_x: float
    freq_y: float


@dataclass(frozen=True)
class _Look:
    """Everything about a video's appearance, derived from the prompt and the seed."""

    palette: tuple[Colour, Colour, Colour]
    waves: tuple[float, float, float, float, float, float]  # kx, ky, speed x/y, phase x/y
    motion: str
    sprites: tuple[_Sprite, ...]
    drift: tuple[float, float]


def _rng(request: EngineRequest) -> np.random.Generator:
    # hashlib, not hash(): Python's string hash is salted per process.
    digest = hashlib.sha256(request.prompt.encode("utf-8")).digest()
    words = [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 32, 4)]
    return np.random.default_rng(np.random.SeedSequence([*words, request.seed & (2**64 - 1)]))


def _make_look(request: EngineRequest) -> _Look:
    rng = _rng(request)
    hue = float(rng.random())
    c0, c1, c2 = (
        _hsv(hue + offset, float(rng.uniform(0.55, 0.95)), float(rng.uniform(0.35, 0.95)))
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
            _Sprite(
                overlay=Overlay.from_alpha(_sprite_alpha(shape, radius) * 0.9, colour),
                phase_x=float(rng.uniform(0, 1)),
                phase_y=float(rng.uniform(0, 1)),
                freq_x=float(rng.uniform(0.08, 0.3)),
                freq_y=float(rng.uniform(0.08, 0.3)),
            )
        )
    drift = (float(rng.uniform(-1, 1)), float(rng.uniform(-1, 1)))
    return _Look(palette, waves, motion, tuple(sprites), drift)


def _hsv(h: float, s: float, v: float) -> Colour:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return (255.0 * r, 255.0 * g, 255.0 * b)


def _sprite_alpha(shape: str, radius: int) -> npt.NDArray[np.float32]:
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


def _position(motion: str, sprite: _Sprite, t: float) -> tuple[float, float]:
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


def _triangle(x: float) -> float:
    """Back and forth between 0.08 and 0.92 with period 1."""
    return 0.08 + 0.84 * (1.0 - abs(2.0 * (x % 1.0) - 1.0))


class _Scene:
    """The prompt's procedural scene: a moving two-axis colour wave plus sprites and text.

    The background is rows(y) + cols(x) with waves of whole-pixel periods, so
    it is periodic and its motion is a scroll: it is rendered once onto a
    canvas one period larger than the frame, and each frame copies a window.
    """

    def __init__(self, request: EngineRequest, look: _Look) -> None:
        self.width, self.height = request.width, request.height
        self.look = look
        kx, ky, _, _, _, _ = look.waves
        self._period_x = max(2, round(self.width / kx))
        self._period_y = max(2, round(self.height / ky))
        self._canvas: Frame | None = None
        self.text = _prompt_overlay(request.prompt, self.width, self.height)

    def with_palette(self, palette: tuple[Colour, Colour, Colour]) -> _Scene:
        clone = object.__new__(_Scene)
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


def _prompt_overlay(prompt: str, width: int, height: int) -> tuple[Overlay, int, int] | None:
    """The prompt as up to three centred lines near the top (clear of the watermark corner)."""
    text = " ".join(prompt.split())
    if not text:
        return None
    font = load_font(max(10, round(0.05 * height)))
    lines = _wrap(text, font, 0.86 * width, max_lines=3)
    overlay = render_text(lines, font)
    overlay = overlay.cropped(min(overlay.width, width), min(overlay.height, height // 2))
    return overlay, (width - overlay.width) // 2, round(0.05 * height)


def _contrasting_palette(
    scene: _Scene, image_mean: FloatArray, t_end: float
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


class SyntheticEngine(Engine):
    """Procedural (not AI) video generator serving every operation on the CPU.

    text_to_video: a moving colour-wave scene with sprites and the prompt drawn on it.
    image_to_video / extend: starts exactly on `request.image`, then zooms in
    slowly while blending ~40% toward the prompt's scene.
    video_to_video: `request.video` restyled point-wise: a tone curve and a colour ramp
    derived from the prompt and seed (pulled toward `request.reference_image`'s colours).

    >>> out = SyntheticEngine().run(request, progress=lambda f: None)
    >>> frames = list(out.frames)  # generated lazily
    """

    name: ClassVar[str] = "synthetic"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(Capability)
    description: ClassVar[str] = (
        "Procedural test videos on the CPU (not AI): prompt-derived colours, moving "
        "shapes and the prompt text; deterministic for a given request and seed."
    )

    def run(self, request: EngineRequest, progress: ProgressFn) -> EngineOutput:
        """Validate `request` now and return frames that are generated as they are consumed."""
        if request.width <= 0 or request.height <= 0 or request.num_frames <= 0:
            raise EngineError(
                f"invalid geometry {request.width}x{request.height}, {request.num_frames} frames"
            )
        if request.fps <= 0:
            raise EngineError(f"invalid fps {request.fps}")
        look = _make_look(request)
        frames: Iterator[Frame]
        if request.operation is Capability.TEXT_TO_VIDEO:
            frames = _text_to_video(request, look)
        elif request.operation in (Capability.IMAGE_TO_VIDEO, Capability.EXTEND):
            frames = _animate_image(request, look, _conditioning_image(request))
        elif request.operation is Capability.VIDEO_TO_VIDEO:
            if not request.video:
                raise EngineError("video_to_video needs a non-empty source video", fail_code=400)
            frames = _grade_video(request, look, request.video)
        else:  # pragma: no cover - Capability is exhaustive
            raise EngineError(f"unsupported operation {request.operation}")
        return EngineOutput(
            frames=_reporting(frames, request.num_frames, progress),
            num_frames=request.num_frames,
            width=request.width,
            height=request.height,
            fps=request.fps,
        )


def _conditioning_image(request: EngineRequest) -> Frame:
    image = request.image
    if image is None:
        raise EngineError(f"{request.operation} needs a conditioning image")
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise EngineError(f"conditioning image must be uint8 RGB, got {image.dtype} {image.shape}")
    # The server fits the image already; this only guards against a caller that did not.
    return fit_cover(image, request.width, request.height)


def _reporting(frames: Iterable[Frame], total: int, progress: ProgressFn) -> Iterator[Frame]:
    for index, frame in enumerate(frames, start=1):
        progress(index / total)
        yield frame


def _text_to_video(request: EngineRequest, look: _Look) -> Iterator[Frame]:
    scene = _Scene(request, look)
    for i in range(request.num_frames):
        yield scene.frame(i / request.fps)


def _animate_image(request: EngineRequest, look: _Look, image: Frame) -> Iterator[Frame]:
    width, height, n = request.width, request.height, request.num_frames
    source = Image.fromarray(np.ascontiguousarray(image))

    def zoomed(p: float) -> Image.Image:
        # Ken Burns: a crop that shrinks and drifts, scaled back up. NEAREST keeps
        # it ~20x cheaper than bilinear; the scene blend hides the stair-steps.
        zoom = 1.0 + (_ZOOM_END - 1.0) * _smoothstep(p)
        crop_w, crop_h = width / zoom, height / zoom
        cx = width / 2 + look.drift[0] * (width - crop_w) / 2
        cy = height / 2 + look.drift[1] * (height - crop_h) / 2
        box = (cx - crop_w / 2, cy - crop_h / 2, cx + crop_w / 2, cy + crop_h / 2)
        return source.resize((width, height), Image.Resampling.NEAREST, box=box)

    t_end = (n - 1) / request.fps
    final_mean = np.asarray(zoomed(1.0), dtype=np.float64).reshape(-1, 3).mean(axis=0)
    base = _Scene(request, look)
    scene = base.with_palette(_contrasting_palette(base, final_mean, t_end))

    yield image.copy()
    for i in range(1, n):
        p = i / (n - 1)
        t = i / request.fps
        mix = Image.blend(zoomed(p), scene.background(t), _BLEND_END * _smoothstep(p))
        frame = np.array(mix, dtype=np.uint8)
        scene.draw_sprites(frame, t, opacity=_smoothstep(min(1.0, 2.0 * p)))
        scene.draw_text(frame, opacity=min(1.0, t / _TEXT_FADE_S))
        yield frame


def _grade_video(request: EngineRequest, look: _Look, video: list[Frame]) -> Iterator[Frame]:
    scene = _Scene(request, look)
    first = fit_cover(video[0], request.width, request.height)
    restyle = _Restyle.choose(look, request.reference_image, first)
    for i, index in enumerate(resample_indices(len(video), request.num_frames)):
        frame = restyle.apply(fit_cover(video[index], request.width, request.height))
        scene.draw_text(frame, opacity=min(1.0, (i / request.fps) / _TEXT_FADE_S))
        yield frame


# video_to_video: the share of each output pixel taken from the prompt's colour ramp
# (the rest is the source, tone-curved), and the least mean change from the source
# (0..255 units) a restyle must reach on the first frame before another is tried.
_RESTYLE_MIX = 0.6
_RESTYLE_MIN_CHANGE = 16.0
_LUMA = np.asarray([0.299, 0.587, 0.114], dtype=np.float64)


def _luminance(colour: FloatArray) -> float:
    return float(np.dot(colour, _LUMA))


def _reference_stops(reference: Frame) -> list[FloatArray]:
    """Mean colours of the reference image's darkest, middle and brightest thirds."""
    small = np.asarray(
        Image.fromarray(np.ascontiguousarray(reference)).resize((64, 64), Image.Resampling.BOX),
        dtype=np.float64,
    ).reshape(-1, 3)
    order = np.argsort(small @ _LUMA, kind="stable")
    return [small[part].mean(axis=0) for part in np.array_split(order, 3)]


class _Restyle:
    """A point-wise restyle: out = (1 - mix) * curve(source) + mix * ramp(luminance(source)).

    `curve` is a per-channel gamma from the prompt and seed; `ramp` is a
    three-stop colour gradient (dark -> middle -> bright) from the prompt's
    palette, pulled toward the reference image's colours when there is one.
    Point-wise, so it is cheap (two table look-ups per pixel) and a flat
    source gives a flat result.
    """

    def __init__(self, curve: FloatArray, ramp: FloatArray) -> None:
        self._curve = curve  # (3, 256): already scaled by 1 - mix
        self._ramp = ramp  # (256, 3): already scaled by mix

    @classmethod
    def choose(cls, look: _Look, reference: Frame | None, first: Frame) -> _Restyle:
        """The first candidate that visibly changes `first`, else the one that changes it most."""
        stops = [np.asarray(c, dtype=np.float64) for c in look.palette]
        if reference is not None:
            ref = _reference_stops(reference)
            stops = [0.75 * r + 0.25 * s for r, s in zip(ref, stops, strict=True)]
        stops.sort(key=_luminance)
        complement = [255.0 - s for s in stops[::-1]]
        candidates = [stops, stops[::-1], complement, complement[::-1]]
        sample = first[:: max(1, first.shape[0] // 64), :: max(1, first.shape[1] // 64)]
        best: tuple[float, _Restyle] | None = None
        for candidate in candidates:
            restyle = cls(_restyle_curve(look), _restyle_ramp(candidate))
            change = float(np.abs(restyle.apply(sample).astype(np.int16) - sample).mean())
            if change >= _RESTYLE_MIN_CHANGE:
                return restyle
            if best is None or change > best[0]:
                best = (change, restyle)
        assert best is not None
        return best[1]

    def apply(self, frame: Frame) -> Frame:
        luma = (frame @ _LUMA).astype(np.uint8)
        out = self._ramp[luma]
        for c in range(3):
            out[..., c] += self._curve[c][frame[..., c]]
        return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _restyle_curve(look: _Look) -> FloatArray:
    levels = np.arange(256, dtype=np.float64) / 255.0
    kx, ky, _, _, _, _ = look.waves
    gammas = (0.6 + 0.5 * kx / 2.2, 0.6 + 0.5 * ky / 2.2, 0.6 + 0.25 * (kx + ky) / 2.2)
    curve: FloatArray = np.stack([(1.0 - _RESTYLE_MIX) * 255.0 * levels**g for g in gammas])
    return curve


def _restyle_ramp(stops: list[FloatArray]) -> FloatArray:
    x = np.arange(256, dtype=np.float64) / 255.0
    dark, middle, bright = stops
    lower = np.clip(x * 2.0, 0.0, 1.0)[:, None]
    upper = np.clip(x * 2.0 - 1.0, 0.0, 1.0)[:, None]
    ramp = np.where(
        x[:, None] < 0.5, dark + (middle - dark) * lower, middle + (bright - middle) * upper
    )
    scaled: FloatArray = _RESTYLE_MIX * ramp
    return scaled
