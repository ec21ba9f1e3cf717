"""What the image engines (z-image, flux-kontext, flux, qwen-image) share, both sides.

Parent side: `ImageEngine` is an `IsolatedEngine` that hands its child the
request's input images (each its own `.npy`: they may differ in size) and the
image count, and returns `ImageOutput`. Child side: `ImageRunner` makes one
pipeline call for all `count` images (`num_images_per_prompt`) and returns
them as uint8 (N, H, W, 3); the server fits them to the asked size and
encodes them (worker/produce.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from reelserve.engines.base import EngineRequest, Frame, ImageOutput, ProgressFn
from reelserve.engines.diffusers.config import DiffusersConfig
from reelserve.engines.diffusers.runner import DiffusersRunner
from reelserve.engines.diffusers.sizing import native_size, to_uint8
from reelserve.engines.diffusers.steps import step_callback
from reelserve.engines.diffusers.weights import WeightsError, check_weights, read_model_index
from reelserve.engines.isolated import Interrupted, IsolatedEngine, Job

MAX_IMAGES = 8
"""Most images one task may ask for (the largest KIE count is 4-6); a bound on one call's memory."""


def expect_pipeline(config: DiffusersConfig, index: dict[str, Any], *classes: str) -> str:
    """The checkpoint's pipeline class (model_index.json `_class_name`), one of `classes`.

    A start-up error naming the setting when the directory holds another model.
    """
    found = str(index.get("_class_name", ""))
    if found not in classes:
        raise WeightsError(
            f"engine {config.engine!r}: {config.setting}={config.model_dir} holds "
            f"{found or 'no _class_name'} (model_index.json); it needs {' or '.join(classes)}"
        )
    return found


def checked_index(
    config: DiffusersConfig, required: tuple[str, ...], *classes: str
) -> tuple[str, dict[str, Any]]:
    """Preflight of `config.model_dir`: it holds one of `classes` (checked first: a directory
    of another model is named as such), complete. The class found and the model index."""
    found = expect_pipeline(
        config, read_model_index(config.model_dir, config.engine, config.setting), *classes
    )
    return found, check_weights(config.model_dir, config.engine, config.setting, required)


class ImageEngine(IsolatedEngine):
    """An isolated engine for image operations: `count` images per task, `ImageOutput` back."""

    target = ""
    """The child's runner, `module:Class`."""

    def __init__(self, config: DiffusersConfig) -> None:
        super().__init__(self.target, config)

    def run(self, request: EngineRequest, progress: ProgressFn) -> ImageOutput:  # type: ignore[override]
        # IsolatedEngine.run moves frames; for an image task they are the images.
        output = super().run(request, progress)
        return ImageOutput([np.asarray(frame) for frame in output.frames])

    def _job(self, request: EngineRequest, job_dir: Path) -> Job:
        job = super()._job(request, job_dir)
        inputs = dict(job.inputs)
        images: list[Frame] = list(request.images)
        if not images and request.image is not None:
            images = [request.image]
        for index, image in enumerate(images):
            path = job_dir / f"images_{index}.npy"
            np.save(path, np.ascontiguousarray(image, dtype=np.uint8))
            inputs[f"images_{index}"] = str(path)
        # An image job's frame count is its image count.
        count = max(1, min(MAX_IMAGES, request.count))
        return Job(
            operation=job.operation,
            prompt=job.prompt,
            width=job.width,
            height=job.height,
            num_frames=count,
            fps=job.fps,
            seed=job.seed,
            inputs=inputs,
            output=job.output,
        )


def input_images(job: Job) -> list[np.ndarray]:
    """The job's input images, in order, as RGB uint8 (an alpha channel is dropped)."""
    out: list[np.ndarray] = []
    while (image := job.frames(f"images_{len(out)}")) is not None:
        array = np.asarray(image)
        if array.ndim == 2:
            array = np.repeat(array[:, :, None], 3, axis=2)
        out.append(np.ascontiguousarray(array[:, :, :3]))
    return out


class ImageRunner(DiffusersRunner):
    """Child side: one pipeline call per job, `num_images_per_prompt=count`."""

    def size(self, job: Job, pipe: Any = None) -> tuple[int, int]:
        """The native pixel area at the request's aspect ratio, in multiples the model takes."""
        pipe = self.pipe if pipe is None else pipe
        multiple = int(pipe.vae_scale_factor) * 2  # VAE downscale x 2x2 latent patches
        cfg = self.config
        width = job.width or cfg.width
        height = job.height or cfg.height
        return native_size(width, height, cfg.width, cfg.height, multiple)

    def guidance(self) -> dict[str, Any]:
        """The guidance arguments of the pipeline call (FLUX/Z-Image: `guidance_scale`)."""
        return {"guidance_scale": self.config.guidance}

    def images(
        self,
        job: Job,
        progress: Callable[[float], None],
        stopped: Callable[[], bool],
        pipe: Any = None,
        **kwargs: Any,
    ) -> tuple[np.ndarray, float]:
        """Run the pipeline (`self.pipe` by default) for `job`; uint8 images (N, H, W, 3) and
        the seconds the call took."""
        import torch

        pipe = self.pipe if pipe is None else pipe
        steps = self.config.steps
        started = time.perf_counter()
        with torch.inference_mode():
            output = pipe(
                prompt=job.prompt,
                num_inference_steps=steps,
                num_images_per_prompt=job.num_frames,
                generator=self.generator(job.seed),
                output_type="np",
                callback_on_step_end=step_callback(steps, progress, stopped),
                **{**self.guidance(), **kwargs},
            )
        elapsed = time.perf_counter() - started
        if stopped() or getattr(pipe, "_interrupt", False):
            raise Interrupted()
        progress(1.0)
        return to_uint8(output.images), elapsed
