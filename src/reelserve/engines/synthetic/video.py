"""Procedural videos: text_to_video, image_to_video, extend and video_to_video.

Not AI. A prompt is hashed into a "look" (`scene.make_look`) and the prompt
text is drawn on the frames, so different prompts give visibly different
videos and the same request gives bit-identical frames. Frames are produced
lazily, a few milliseconds each. (Moved here from `engines/synthetic.py`;
the output of these four operations is unchanged.)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
from PIL import Image

from reelserve.engines.base import EngineError, EngineRequest, Frame, ProgressFn
from reelserve.engines.synthetic.restyle import Restyle
from reelserve.engines.synthetic.scene import Look, Scene, contrasting_palette, smoothstep
from reelserve.media.frames import fit_cover, resample_indices

# image_to_video / extend: how far the picture drifts toward the prompt's scene.
_BLEND_END = 0.4
_ZOOM_END = 1.15
TEXT_FADE_S = 1.0


def conditioning_image(request: EngineRequest) -> Frame:
    image = request.image
    if image is None:
        raise EngineError(f"{request.operation} needs an input image", fail_code=400)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise EngineError(f"conditioning image must be uint8 RGB, got {image.dtype} {image.shape}")
    # The server fits the image already; this only guards against a caller that did not.
    return fit_cover(image, request.width, request.height)


def reporting(frames: Iterable[Frame], total: int, progress: ProgressFn) -> Iterator[Frame]:
    for index, frame in enumerate(frames, start=1):
        progress(index / total)
        yield frame


def text_to_video(request: EngineRequest, look: Look) -> Iterator[Frame]:
    scene = Scene(request, look)
    for i in range(request.num_frames):
        yield scene.frame(i / request.fps)


def animate_image(request: EngineRequest, look: Look, image: Frame) -> Iterator[Frame]:
    width, height, n = request.width, request.height, request.num_frames
    source = Image.fromarray(np.ascontiguousarray(image))

    def zoomed(p: float) -> Image.Image:
        # Ken Burns: a crop that shrinks and drifts, scaled back up. NEAREST keeps
        # it ~20x cheaper than bilinear; the scene blend hides the stair-steps.
        zoom = 1.0 + (_ZOOM_END - 1.0) * smoothstep(p)
        crop_w, crop_h = width / zoom, height / zoom
        cx = width / 2 + look.drift[0] * (width - crop_w) / 2
        cy = height / 2 + look.drift[1] * (height - crop_h) / 2
        box = (cx - crop_w / 2, cy - crop_h / 2, cx + crop_w / 2, cy + crop_h / 2)
        return source.resize((width, height), Image.Resampling.NEAREST, box=box)

    t_end = (n - 1) / request.fps
    final_mean = np.asarray(zoomed(1.0), dtype=np.float64).reshape(-1, 3).mean(axis=0)
    base = Scene(request, look)
    scene = base.with_palette(contrasting_palette(base, final_mean, t_end))

    yield image.copy()
    for i in range(1, n):
        p = i / (n - 1)
        t = i / request.fps
        mix = Image.blend(zoomed(p), scene.background(t), _BLEND_END * smoothstep(p))
        frame = np.array(mix, dtype=np.uint8)
        scene.draw_sprites(frame, t, opacity=smoothstep(min(1.0, 2.0 * p)))
        scene.draw_text(frame, opacity=min(1.0, t / TEXT_FADE_S))
        yield frame


def grade_video(request: EngineRequest, look: Look, video: list[Frame]) -> Iterator[Frame]:
    scene = Scene(request, look)
    first = fit_cover(video[0], request.width, request.height)
    restyle = Restyle.choose(look, request.reference_image, first)
    for i, index in enumerate(resample_indices(len(video), request.num_frames)):
        frame = restyle.apply(fit_cover(video[index], request.width, request.height))
        scene.draw_text(frame, opacity=min(1.0, (i / request.fps) / TEXT_FADE_S))
        yield frame
