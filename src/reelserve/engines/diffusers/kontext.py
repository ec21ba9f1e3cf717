"""`flux-kontext`: FLUX.1 Kontext through diffusers' FluxKontextPipeline.

image_to_image: the first input image is fitted (cover, centre crop) to the
native pixel area at the request's aspect ratio and edited as the prompt
says; text_to_image: the same pipeline with no image (Kontext generates from
the prompt alone). `max_area` is the native area and `_auto_resize` is off,
so the pipeline keeps the size chosen here rather than snapping to its own list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reelserve.engines.base import Capability, EngineError
from reelserve.engines.diffusers.config import DiffusersConfig
from reelserve.engines.diffusers.image_runner import (
    ImageEngine,
    ImageRunner,
    checked_index,
    input_images,
)
from reelserve.engines.isolated import Generated, Job
from reelserve.media.frames import fit_cover

REQUIRED = (
    "transformer",
    "vae",
    "text_encoder",
    "text_encoder_2",
    "tokenizer",
    "tokenizer_2",
    "scheduler",
)


class FluxKontextEngine(ImageEngine):
    name = "flux-kontext"
    capabilities = frozenset({Capability.IMAGE_TO_IMAGE, Capability.TEXT_TO_IMAGE})
    description = "FLUX.1 Kontext (diffusers FluxKontextPipeline) in a child process"
    target = "reelserve.engines.diffusers.kontext:FluxKontextRunner"


def engine_class(config: DiffusersConfig) -> type[ImageEngine]:
    """Preflight: the checkpoint must be a FluxKontextPipeline."""
    checked_index(config, REQUIRED, FluxKontextRunner.pipeline_class)
    return FluxKontextEngine


class FluxKontextRunner(ImageRunner):
    pipeline_class = "FluxKontextPipeline"

    def generate(
        self, job: Job, progress: Callable[[float], None], stopped: Callable[[], bool]
    ) -> Generated:
        from PIL import Image

        width, height = self.size(job)
        extra: dict[str, Any] = {}
        if job.operation == Capability.IMAGE_TO_IMAGE.value:
            images = input_images(job)
            if not images:
                raise EngineError("image_to_image needs an input image", 400)
            extra["image"] = Image.fromarray(fit_cover(images[0], width, height))
        elif job.operation != Capability.TEXT_TO_IMAGE.value:
            raise EngineError(f"flux-kontext does not do {job.operation}", 400)
        images_out, elapsed = self.images(
            job,
            progress,
            stopped,
            width=width,
            height=height,
            max_area=width * height,
            _auto_resize=False,
            **extra,
        )
        return Generated(images_out, 0.0, elapsed)
