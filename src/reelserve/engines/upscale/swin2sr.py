"""`swin2sr`: upscale_image and upscale_video with Swin2SR, kept resident in a child process.

The model's own scale (config.json `upscale`: 2 or 4) is applied as many
times as the target needs, then the result is resized with Lanczos to the
exact target: `width` x `height` of the request, else `params.upscale_factor`
(default 2) times the input. A target no larger than the input skips the
model (Lanczos only). An RGBA image keeps its alpha, resized with Lanczos.

upscale_video runs frame by frame in the child: progress per frame, an
interrupt stops it between frames (or tiles). Frames go through `.npy` files
beside the job, never through the pipe: the child writes its output into a
memory-mapped `frames.npy` one frame at a time, and the parent reads it back
one frame at a time (IsolatedEngine's scheme). Big frames are cut into
overlapping tiles (`REELSERVE_SWIN2SR_TILE`) so 4K renditions fit in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from reelserve.engines.base import (
    Capability,
    EngineError,
    EngineOutput,
    EngineRequest,
    Frame,
    ImageOutput,
    ProgressFn,
)
from reelserve.engines.isolated import IsolatedEngine, Job, read_frames
from reelserve.engines.upscale.config import Swin2SRConfig

FRAMES_FILE = "frames.npy"


class Swin2SREngine(IsolatedEngine):
    name = "swin2sr"
    capabilities = frozenset({Capability.UPSCALE_IMAGE, Capability.UPSCALE_VIDEO})
    description = "Swin2SR super-resolution (transformers) in a child process"

    def __init__(self, config: Swin2SRConfig) -> None:
        super().__init__("reelserve.engines.upscale.runner:Swin2SRRunner", config)

    def run(  # type: ignore[override]
        self, request: EngineRequest, progress: ProgressFn
    ) -> ImageOutput | EngineOutput:
        if request.operation is Capability.UPSCALE_IMAGE:
            return self._upscale_image(request, progress)
        if request.operation is Capability.UPSCALE_VIDEO:
            return self._upscale_video(request, progress)
        raise EngineError(f"swin2sr cannot {request.operation.value}", 400)

    def _upscale_image(self, request: EngineRequest, progress: ProgressFn) -> ImageOutput:
        source = request.images[0] if request.images else request.image
        if source is None or source.size == 0:
            raise EngineError("upscale_image needs an image to upscale", 400)
        image = np.asarray(source)
        if image.ndim == 2:
            image = np.repeat(image[:, :, None], 3, axis=2)
        width, height = target_size(request, image.shape[1], image.shape[0])
        frames = self._frames(request, image[None, :, :, :3], width, height, progress)
        (upscaled,) = list(frames)  # consuming it removes the job's files
        if image.shape[2] == 4:
            alpha = Image.fromarray(np.ascontiguousarray(image[:, :, 3]))
            resized = alpha.resize((width, height), Image.Resampling.LANCZOS)
            upscaled = np.dstack([upscaled, np.asarray(resized, np.uint8)])
        return ImageOutput([upscaled])

    def _upscale_video(self, request: EngineRequest, progress: ProgressFn) -> EngineOutput:
        video = request.video or []
        if not video:
            raise EngineError("upscale_video needs a source video", 400)
        if request.num_frames and request.num_frames != len(video):
            from reelserve.media.frames import resample_indices

            video = [video[i] for i in resample_indices(len(video), request.num_frames)]
        first = video[0]
        width, height = target_size(request, first.shape[1], first.shape[0])
        data = np.stack([np.asarray(f)[:, :, :3] for f in video])
        frames = self._frames(request, data, width, height, progress)
        return EngineOutput(frames, len(video), width, height, float(request.fps or 24))

    def _frames(
        self,
        request: EngineRequest,
        frames: np.ndarray,
        width: int,
        height: int,
        progress: ProgressFn,
    ) -> Iterator[Frame]:
        """Run one job on `frames` (F, h, w, 3); its output frames, read lazily from the file."""

        def job(job_dir: Path) -> Job:
            source = job_dir / "source.npy"
            np.save(source, np.ascontiguousarray(frames, dtype=np.uint8))
            return Job(
                operation=request.operation.value,
                prompt="",
                width=width,
                height=height,
                num_frames=len(frames),
                fps=request.fps,
                seed=request.seed,
                inputs={"source": str(source)},
                output=str(job_dir / "output.npy"),
            )

        _, job_dir, _, _ = self._execute(job, progress)
        return read_frames(job_dir / FRAMES_FILE, job_dir)


def target_size(request: EngineRequest, width: int, height: int) -> tuple[int, int]:
    """The exact output size: the request's, else `upscale_factor` (default 2) x the input."""
    if request.width and request.height:
        return request.width, request.height
    try:
        factor = float(request.params.get("upscale_factor") or 2)
    except (TypeError, ValueError):
        raise EngineError("upscale_factor must be a number", 400) from None
    if factor <= 0:
        raise EngineError("upscale_factor must be positive", 400)
    return max(1, round(width * factor)), max(1, round(height * factor))
