"""`rembg`: remove_background with a rembg session, kept resident in a child process.

The output is RGBA at the input's size: the colours are the input's (or, with
alpha matting, rembg's estimated foreground), the alpha is the model's mask
(resized to the input by rembg) and, for an RGBA input, never above the
input's own alpha (the minimum of the two). A request may carry several
images: they run one after the other in the child, progress after each, an
interrupt stops between them. Images go through `.npy` files beside the job,
never through the pipe (IsolatedEngine's scheme); a crash of the child fails
the task and a new child loads at once.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from reelserve.engines.base import (
    Capability,
    EngineError,
    EngineRequest,
    Frame,
    ImageOutput,
    ProgressFn,
)
from reelserve.engines.isolated import IsolatedEngine, Job
from reelserve.engines.matting.config import RembgConfig


def input_name(index: int) -> str:
    return f"image-{index}"


def result_file(job_dir: Path, index: int) -> Path:
    return job_dir / f"result-{index}.npy"


class RembgEngine(IsolatedEngine):
    name = "rembg"
    capabilities = frozenset({Capability.REMOVE_BACKGROUND})
    description = "rembg background removal (onnxruntime) in a child process"

    def __init__(self, config: RembgConfig) -> None:
        super().__init__("reelserve.engines.matting.runner:RembgRunner", config)

    def run(self, request: EngineRequest, progress: ProgressFn) -> ImageOutput:  # type: ignore[override]
        if request.operation is not Capability.REMOVE_BACKGROUND:
            raise EngineError(f"rembg cannot {request.operation.value}", 400)
        sources = list(request.images) or ([request.image] if request.image is not None else [])
        images = [rgb_or_rgba(image) for image in sources if image is not None and image.size]
        if not images:
            raise EngineError("remove_background needs an input image", 400)

        def make_job(job_dir: Path) -> Job:
            inputs: dict[str, str] = {}
            for index, image in enumerate(images):
                path = job_dir / f"{input_name(index)}.npy"
                np.save(path, image)
                inputs[input_name(index)] = str(path)
            return Job(
                operation=request.operation.value,
                prompt="",
                width=request.width,
                height=request.height,
                num_frames=len(images),
                fps=0,
                seed=request.seed,
                inputs=inputs,
                output=str(job_dir / "output.npy"),
            )

        _, job_dir, _, _ = self._execute(make_job, progress)
        try:
            return ImageOutput([np.load(result_file(job_dir, i)) for i in range(len(images))])
        finally:
            shutil.rmtree(job_dir, ignore_errors=True)


def rgb_or_rgba(image: Frame) -> Frame:
    """An (h, w, 3) or (h, w, 4) contiguous uint8 copy of any input (grey expanded)."""
    data = np.asarray(image)
    if data.ndim == 2:
        data = data[:, :, None]
    if data.shape[2] == 1:
        data = np.repeat(data, 3, axis=2)
    elif data.shape[2] == 2:  # grey + alpha
        data = np.dstack([np.repeat(data[:, :, :1], 3, axis=2), data[:, :, 1]])
    return np.ascontiguousarray(data[:, :, :4], dtype=np.uint8)
