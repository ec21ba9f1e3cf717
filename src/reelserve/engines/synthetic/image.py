"""Procedural images: text_to_image, image_to_image, upscale_image, remove_background.

Not AI. text_to_image paints a layered landscape (sky gradient, sun, hills)
whose colours and shapes are placed by the prompt and seed, with the prompt
written on it; image_to_image restyles the input (the video restyle's tone
curve and colour ramp, at a lighter mix) so the input stays recognisable;
upscale is a plain Lanczos resize; background removal flood-fills the
border colour into a real alpha mask. Everything is numpy over whole
arrays, so a 1024x1024 image takes tens of milliseconds.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import numpy.typing as npt
from PIL import Image

from reelserve.engines.base import EngineError, EngineRequest, Frame, ImageOutput
from reelserve.engines.synthetic.dsp import seeded_rng
from reelserve.engines.synthetic.restyle import Restyle
from reelserve.engines.synthetic.scene import hsv, make_look, sprite_alpha
from reelserve.media.frames import Overlay, fit_cover, load_font, render_text, wrap_text

F32 = npt.NDArray[np.float32]

# image_to_image: the ramp's share (video_to_video uses 0.6) and the least mean change.
_EDIT_MIX = 0.35
_EDIT_MIN_CHANGE = 12.0
_DEFAULT_TOLERANCE = 40.0
# Each pass costs ~10 ms at 1024x1024; real floods converge in a handful.
_MAX_FLOOD_PASSES = 64
_EDGE_PX = 2


def text_to_image(request: EngineRequest) -> ImageOutput:
    """`count` distinct scenes (seed, seed + 1, ...) of width x height with the prompt drawn."""
    _check_size(request)
    if request.count < 1:
        raise EngineError(f"count must be at least 1, got {request.count}", fail_code=400)
    caption = _caption(request.prompt, request.width, request.height, 0.055, 4)
    images = []
    for index in range(request.count):
        image = landscape(request.prompt, request.seed + index, request.width, request.height)
        if caption is not None:
            overlay, x, y = caption
            overlay.blend_into(image, x, y)
        images.append(image)
    return ImageOutput(images)


def landscape(prompt: str, seed: int, width: int, height: int) -> Frame:
    """Sky, sun and three ridges of hills, each placed and coloured by (prompt, seed)."""
    rng = seeded_rng("text_to_image", prompt, seed)
    hue = float(rng.random())
    top = np.asarray(hsv(hue, 0.55, 0.35 + 0.3 * float(rng.random())), np.float32)
    horizon = np.asarray(hsv(hue + 0.08, 0.45, 0.9), np.float32)
    y = (np.arange(height, dtype=np.float32) / max(1, height - 1))[:, None]
    x = (np.arange(width, dtype=np.float32) / max(1, width - 1))[None, :]
    sky_rows = top + (horizon - top) * y  # (h, 3)
    tint = np.asarray(hsv(hue + 0.5, 0.5, 1.0), np.float32) - 128.0
    sky_cols = 0.12 * tint * x[0][:, None]  # (w, 3): a sideways tint
    # Ridge k covers every pixel below its skyline; `layer` counts the ridges over a pixel.
    layer = np.zeros((height, width), dtype=np.uint8)
    for k in range(3):
        base = 0.5 + 0.14 * k + 0.06 * float(rng.random())
        skyline = np.full(width, base, dtype=np.float32)
        for _ in range(3):
            freq = float(rng.uniform(1.0, 5.0)) * (k + 1)
            skyline += float(rng.uniform(0.01, 0.06)) * np.sin(
                2 * np.pi * freq * x[0] + float(rng.uniform(0, 2 * np.pi))
            ).astype(np.float32)
        layer += (y >= skyline[None, :]).astype(np.uint8)
    hills = np.stack(
        [np.zeros(3, np.float32)]
        + [np.asarray(hsv(hue + 0.3 + 0.1 * k, 0.6, 0.55 - 0.13 * k), np.float32) for k in range(3)]
    )
    sky = (sky_rows[:, None, :] + sky_cols[None, :, :]).clip(0, 255)
    image = np.where(layer[:, :, None] == 0, sky, hills[layer]).astype(np.uint8)
    short = min(width, height)
    _sun(image, rng, short)
    for k in range(int(rng.integers(3, 7))):
        radius = max(2, round(short * float(rng.uniform(0.03, 0.08))))
        shape = str(rng.choice(["disk", "ring", "square"]))
        colour = hsv(hue + 0.15 * k + 0.5, 0.7, 0.95)
        sprite = Overlay.from_alpha(sprite_alpha(shape, radius) * 0.85, colour)
        sx, sy = float(rng.uniform(0.05, 0.95)), float(rng.uniform(0.3, 0.95))
        sprite.blend_into(image, round(sx * width) - radius, round(sy * height) - radius)
    return image


def _sun(image: Frame, rng: np.random.Generator, short: int) -> None:
    """A soft-edged disk with a glow, blended only inside its bounding box."""
    height, width = image.shape[:2]
    radius = short * float(rng.uniform(0.05, 0.1))
    cx, cy = float(rng.uniform(0.15, 0.85)) * width, float(rng.uniform(0.12, 0.35)) * height
    reach = int(radius * 2.5)
    x0, x1 = max(0, int(cx) - reach), min(width, int(cx) + reach)
    y0, y1 = max(0, int(cy) - reach), min(height, int(cy) + reach)
    if x0 >= x1 or y0 >= y1:
        return
    dx = np.arange(x0, x1, dtype=np.float32)[None, :] - cx
    dy = np.arange(y0, y1, dtype=np.float32)[:, None] - cy
    dist = np.sqrt(dx * dx + dy * dy)
    disk = np.clip(radius - dist + 0.5, 0, 1)
    glow = 0.35 * np.clip(1 - (dist - radius) / (1.5 * radius), 0, 1) ** 2
    alpha = np.maximum(disk, glow)[:, :, None]
    region = image[y0:y1, x0:x1].astype(np.float32)
    image[y0:y1, x0:x1] = (region + (np.float32(250.0) - region) * alpha).astype(np.uint8)


def _caption(
    prompt: str, width: int, height: int, scale: float, max_lines: int
) -> tuple[Overlay, int, int] | None:
    """The prompt wrapped to `max_lines`, centred near the top (the watermark sits bottom-right)."""
    text = " ".join(prompt.split())
    if not text:
        return None
    font = load_font(max(10, round(scale * height)))
    overlay = render_text(wrap_text(text, font, 0.86 * width, max_lines=max_lines), font)
    overlay = overlay.cropped(min(overlay.width, width), min(overlay.height, height // 2))
    return overlay, (width - overlay.width) // 2, round(0.04 * height)


def image_to_image(request: EngineRequest) -> ImageOutput:
    """images[0] fitted, restyled from prompt + seed, captioned; other images as thumbnails.

    With a `mask`, pixels change in proportion to its whiteness: black areas
    keep the input exactly.
    """
    source = _first_image(request)
    width = request.width or source.shape[1]
    height = request.height or source.shape[0]
    base = fit_cover(rgb(source), width, height)
    sized = replace(request, width=width, height=height)
    outputs = []
    for index in range(max(1, request.count)):
        variant = replace(sized, seed=request.seed + index)
        look = make_look(variant)
        restyle = Restyle.choose(look, None, base, mix=_EDIT_MIX, min_change=_EDIT_MIN_CHANGE)
        styled = restyle.apply(base)
        _thumbnails(styled, [rgb(image) for image in request.images[1:4]])
        caption = _caption(request.prompt, width, height, 0.035, 2)
        if caption is not None:
            overlay, x, y = caption
            overlay.blend_into(styled, x, y)
        if request.mask is not None:
            weight = _mask_weight(request.mask, width, height)
            mixed = base + (styled.astype(np.float32) - base) * weight
            styled = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
        outputs.append(styled)
    return ImageOutput(outputs)


def _thumbnails(image: Frame, others: list[Frame]) -> None:
    """Reference images as framed squares along the bottom-left edge."""
    height, width = image.shape[:2]
    side = max(8, round(0.18 * min(width, height)))
    margin = max(2, side // 12)
    for k, other in enumerate(others):
        x = margin + k * (side + margin)
        y = height - side - margin
        if x + side > width // 2 or y < 0:  # keep clear of the watermark corner
            break
        image[y - 2 : y + side + 2, x - 2 : x + side + 2] = 255
        image[y : y + side, x : x + side] = fit_cover(other, side, side)


def _mask_weight(mask: Frame, width: int, height: int) -> F32:
    grey = mask if mask.ndim == 2 else rgb(mask).mean(axis=2)
    resized = Image.fromarray(np.ascontiguousarray(grey).astype(np.uint8)).resize(
        (width, height), Image.Resampling.BILINEAR
    )
    weight: F32 = (np.asarray(resized, dtype=np.float32) / 255.0)[:, :, None]
    return weight


def upscale_image(request: EngineRequest) -> ImageOutput:
    """images[0] resized with Lanczos to width x height (default: 2x), alpha kept."""
    source = _first_image(request)
    factor = float(request.params.get("upscale_factor") or 2)
    width = request.width or round(source.shape[1] * factor)
    height = request.height or round(source.shape[0] * factor)
    resized = Image.fromarray(np.ascontiguousarray(source)).resize(
        (width, height), Image.Resampling.LANCZOS
    )
    return ImageOutput([np.asarray(resized, dtype=np.uint8).copy()])


def remove_background(request: EngineRequest) -> ImageOutput:
    """RGBA at the input's size: alpha 0 where the border colour floods in, 255 on the subject.

    The border colour is the median of the edge pixels; every pixel within
    `tolerance` (max channel difference, params["tolerance"], default 40)
    that connects to the edge through such pixels is background. Background
    pixels within two pixels of the subject (anti-aliased edges) get partial
    alpha by their colour distance, so the cut-out has a soft edge while the
    subject stays fully opaque.
    """
    source = rgb(_first_image(request))
    tolerance = float(request.params.get("tolerance") or _DEFAULT_TOLERANCE)
    edge = np.concatenate([source[0], source[-1], source[:, 0], source[:, -1]])
    colour = np.median(edge, axis=0)
    distance = np.abs(source.astype(np.int16) - colour.astype(np.int16)).max(axis=2)
    candidate = distance <= tolerance
    background = flood_from_border(candidate)
    # Soft edge: background pixels next to the subject (anti-aliased blends of
    # both colours) keep alpha in proportion to how far they are from the
    # border colour; the rest of the background is fully transparent.
    ring = background & _near(~background, _EDGE_PX)
    soft = np.where(ring, np.clip(distance / tolerance, 0.0, 1.0), 0.0)
    alpha = np.where(background, np.round(255 * soft), 255).astype(np.uint8)
    return ImageOutput([np.dstack([source, alpha])])


def _near(mask: npt.NDArray[np.bool_], reach: int) -> npt.NDArray[np.bool_]:
    """`mask` grown by `reach` pixels (a square dilation by shifted ORs)."""
    grown = mask.copy()
    for _ in range(reach):
        step = grown.copy()
        step[1:] |= grown[:-1]
        step[:-1] |= grown[1:]
        step[:, 1:] |= grown[:, :-1]
        step[:, :-1] |= grown[:, 1:]
        grown = step
    return grown


def flood_from_border(candidate: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """The `candidate` pixels 4-connected to the image border through candidate pixels.

    Vectorised run propagation instead of a per-pixel queue: alternately,
    every horizontal then vertical run of candidates that touches a filled
    pixel is filled whole. Each pass is a few numpy operations over the
    image; it converges in as many passes as the flood has turns (a handful
    for real images, capped for pathological spirals).
    """
    filled = np.zeros_like(candidate)
    filled[0], filled[-1], filled[:, 0], filled[:, -1] = (
        candidate[0],
        candidate[-1],
        candidate[:, 0],
        candidate[:, -1],
    )
    for _ in range(_MAX_FLOOD_PASSES):
        before = int(filled.sum())
        filled = _fill_runs(candidate, filled)
        filled = _fill_runs(candidate.T, filled.T).T
        if int(filled.sum()) == before:
            break
    return filled


def _fill_runs(
    candidate: npt.NDArray[np.bool_], filled: npt.NDArray[np.bool_]
) -> npt.NDArray[np.bool_]:
    rows, cols = candidate.shape
    # A False column after each row keeps runs from wrapping to the next row.
    flat = np.zeros((rows, cols + 1), dtype=bool)
    flat[:, :cols] = candidate
    line = flat.ravel()
    seed = np.zeros_like(flat)
    seed[:, :cols] = filled
    starts = line & ~np.concatenate([[False], line[:-1]])
    run = np.cumsum(starts) * line
    touched = np.bincount(run, weights=seed.ravel(), minlength=int(run.max()) + 1) > 0
    touched[0] = False
    result: npt.NDArray[np.bool_] = touched[run].reshape(rows, cols + 1)[:, :cols]
    return result


def rgb(image: Frame) -> Frame:
    """An (h, w, 3) uint8 view of any input: grey expanded, alpha flattened onto white."""
    if image.ndim == 2:
        grey: Frame = np.repeat(image[:, :, None], 3, axis=2)
        return grey
    if image.shape[2] == 4:
        alpha = image[:, :, 3:4].astype(np.float32) / 255.0
        flat: Frame = np.clip(image[:, :, :3] * alpha + 255.0 * (1.0 - alpha) + 0.5, 0, 255).astype(
            np.uint8
        )
        return flat
    if image.shape[2] == 1:
        expanded: Frame = np.repeat(image, 3, axis=2)
        return expanded
    return image


def _first_image(request: EngineRequest) -> Frame:
    if request.images:
        return request.images[0]
    if request.image is not None:
        return request.image
    raise EngineError(f"{request.operation} needs an input image", fail_code=400)


def _check_size(request: EngineRequest) -> None:
    if request.width <= 0 or request.height <= 0:
        raise EngineError(f"invalid size {request.width}x{request.height}")
