"""The newer video operations: reference_to_video, upscale_video, lip_sync, motion_transfer.

Not AI, each one a visible procedure on its inputs: the reference image's
colours pulled into the prompt's palette; a Lanczos resize per frame; a
drawn mouth that opens with the driving audio's loudness; the portrait
shifted by the source video's global motion (phase correlation) and lit by
its brightness. Frames are lazy like the other video operations.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
from PIL import Image

from reelserve.engines.base import Audio, EngineError, EngineRequest, Frame
from reelserve.engines.synthetic.audio import envelope
from reelserve.engines.synthetic.dsp import Floats
from reelserve.engines.synthetic.restyle import LUMA, luminance, reference_stops
from reelserve.engines.synthetic.scene import Look, Scene
from reelserve.engines.synthetic.video import (
    TEXT_FADE_S,
    animate_image,
    conditioning_image,
    text_to_video,
)
from reelserve.media.frames import fit_cover, resample_indices

_REFERENCE_PULL = 0.6
_MOTION_SIZE = 64


def reference_to_video(request: EngineRequest, look: Look) -> Iterator[Frame]:
    """text_to_video (or image_to_video when `image` is given) in the reference's colours."""
    reference = request.images[0] if request.images else request.reference_image
    if reference is not None:
        stops = reference_stops(np.ascontiguousarray(reference[..., :3]))
        stops.sort(key=luminance)
        ordered = sorted(look.palette, key=lambda c: luminance(np.asarray(c)))
        mixed = [
            tuple(float(_REFERENCE_PULL * r[i] + (1 - _REFERENCE_PULL) * c[i]) for i in range(3))
            for r, c in zip(stops, ordered, strict=True)
        ]
        look = replace(look, palette=(_colour(mixed[0]), _colour(mixed[1]), _colour(mixed[2])))
    if request.image is not None:
        return animate_image(request, look, conditioning_image(request))
    return text_to_video(request, look)


def _colour(values: tuple[float, ...]) -> tuple[float, float, float]:
    return (values[0], values[1], values[2])


def upscale_video(request: EngineRequest) -> Iterator[Frame]:
    """Each source frame (resampled to num_frames) Lanczos-resized to width x height."""
    video = _source_video(request)
    for index in resample_indices(len(video), request.num_frames):
        image = Image.fromarray(np.ascontiguousarray(video[index]))
        resized = image.resize((request.width, request.height), Image.Resampling.LANCZOS)
        yield np.asarray(resized, dtype=np.uint8).copy()


def driving_audio(request: EngineRequest) -> Audio:
    if request.audio is None or len(request.audio.samples) == 0:
        raise EngineError(f"{request.operation} needs an input audio clip", fail_code=400)
    return request.audio


def lip_sync(request: EngineRequest, openings: Floats) -> Iterator[Frame]:
    """The portrait with a dark mouth whose height follows `openings` (one per frame, 0..1).

    Without face detection the mouth sits where a centred portrait has it
    (0.5 across, 0.66 down); lips take a darkened tone of the skin there.
    """
    portrait = conditioning_image(request)
    width, height = request.width, request.height
    cx, cy = width / 2, 0.66 * height
    half_w = max(3.0, 0.09 * width)
    max_half_h = max(2.0, 0.05 * height)
    x0, x1 = int(max(0, cx - half_w - 2)), int(min(width, cx + half_w + 2))
    y0, y1 = int(max(0, cy - max_half_h - 4)), int(min(height, cy + max_half_h + 4))
    dx = (np.arange(x0, x1, dtype=np.float32)[None, :] - cx) / half_w
    dy = np.arange(y0, y1, dtype=np.float32)[:, None] - cy
    skin = portrait[y0:y1, x0:x1].reshape(-1, 3).mean(axis=0)
    lips = (0.55 * skin + np.asarray([60.0, 0.0, 10.0])).clip(0, 255).astype(np.float32)
    inside = np.asarray([35.0, 12.0, 18.0], np.float32)
    for opening in openings:
        frame = portrait.copy()
        half_h = 1.0 + max_half_h * float(opening)
        # Ellipse distance; the lip band is the ring just outside the opening.
        radius = np.sqrt(dx * dx + (dy / half_h) ** 2)
        mouth = np.clip((1.0 - radius) * half_h, 0, 1)[:, :, None]
        lip = np.clip((1.35 - radius) * 4, 0, 1)[:, :, None] * (1 - mouth)
        region = frame[y0:y1, x0:x1].astype(np.float32)
        region = region * (1 - lip) + lips * lip
        region = region * (1 - mouth) + inside * mouth
        frame[y0:y1, x0:x1] = (region + 0.5).astype(np.uint8)
        yield frame


def lip_openings(request: EngineRequest, audio: Audio) -> Floats:
    """Mouth opening per frame: the audio's RMS over that frame's time, normalised."""
    return envelope(audio, request.num_frames, request.num_frames / request.fps)


def motion_transfer(request: EngineRequest, look: Look) -> Iterator[Frame]:
    """The portrait moved by the source video's accumulated global shift and brightness.

    Frame 0 is the image itself; frame i is it translated by the source's
    motion since its frame 0 (phase correlation on 64x64 greys, scaled to the
    output) with edge pixels repeated, and its brightness scaled like the
    source's. The prompt fades in as in the other video operations.
    """
    image = conditioning_image(request)
    video = _source_video(request)
    indices = resample_indices(len(video), request.num_frames)
    greys = [_small_grey(video[i]) for i in indices]
    shifts = [(0.0, 0.0)]
    for before, after in itertools.pairwise(greys):
        dy, dx = _phase_shift(before, after)
        shifts.append((shifts[-1][0] + dy, shifts[-1][1] + dx))
    brightness = [float(g.mean()) for g in greys]
    height, width = request.height, request.width
    scene = Scene(request, look)
    levels = np.arange(256, dtype=np.float32)
    for i, ((sy, sx), level) in enumerate(zip(shifts, brightness, strict=True)):
        oy, ox = round(sy * height / _MOTION_SIZE), round(sx * width / _MOTION_SIZE)
        rows = np.clip(np.arange(height) - oy, 0, height - 1)
        cols = np.clip(np.arange(width) - ox, 0, width - 1)
        frame = image[rows][:, cols]
        gain = float(np.clip((level + 8.0) / (brightness[0] + 8.0), 0.6, 1.6))
        if i and gain != 1.0:
            frame = np.clip(levels * gain + 0.5, 0, 255).astype(np.uint8)[frame]
        else:
            frame = frame.copy()
        scene.draw_text(frame, opacity=min(1.0, (i / request.fps) / TEXT_FADE_S))
        yield frame


def _small_grey(frame: Frame) -> Floats:
    small = fit_cover(frame, _MOTION_SIZE, _MOTION_SIZE)
    grey: Floats = small.astype(np.float64) @ LUMA
    return grey


def _phase_shift(before: Floats, after: Floats) -> tuple[float, float]:
    """(dy, dx) in pixels that moves `before` onto `after` (the cross-power spectrum's peak)."""
    a = np.fft.fft2(before - before.mean())
    b = np.fft.fft2(after - after.mean())
    cross = b * np.conj(a)
    magnitude = np.abs(cross)
    if float(magnitude.max()) < 1e-9:
        return 0.0, 0.0
    correlation = np.fft.ifft2(cross / np.maximum(magnitude, 1e-9)).real
    py, px = np.unravel_index(int(np.argmax(correlation)), correlation.shape)
    size = _MOTION_SIZE
    return float(py - size if py > size // 2 else py), float(px - size if px > size // 2 else px)


def _source_video(request: EngineRequest) -> list[Frame]:
    if not request.video:
        raise EngineError(f"{request.operation} needs a non-empty source video", fail_code=400)
    return request.video
