"""`z-image`: Z-Image (Tongyi-MAI/Z-Image-Turbo) through diffusers' ZImagePipeline.

text_to_image only: `count` images of the native pixel area at the request's
aspect ratio, in one call (`num_images_per_prompt`); the server fits them to
the asked size. Turbo's published settings are 9 steps without guidance
(settings `REELSERVE_ZIMAGE_STEPS` / `_GUIDANCE`).
"""

from __future__ import annotations

from collections.abc import Callable

from reelserve.engines.base import Capability, EngineError
from reelserve.engines.diffusers.config import DiffusersConfig
from reelserve.engines.diffusers.image_runner import ImageEngine, ImageRunner, checked_index
from reelserve.engines.isolated import Generated, Job

REQUIRED = ("transformer", "vae", "text_encoder", "tokenizer", "scheduler")


class ZImageEngine(ImageEngine):
    name = "z-image"
    capabilities = frozenset({Capability.TEXT_TO_IMAGE})
    description = "Z-Image (diffusers ZImagePipeline) in a child process"
    target = "reelserve.engines.diffusers.zimage:ZImageRunner"


def engine_class(config: DiffusersConfig) -> type[ImageEngine]:
    """Preflight: the checkpoint must be a ZImagePipeline."""
    checked_index(config, REQUIRED, ZImageRunner.pipeline_class)
    return ZImageEngine


class ZImageRunner(ImageRunner):
    pipeline_class = "ZImagePipeline"

    def generate(
        self, job: Job, progress: Callable[[float], None], stopped: Callable[[], bool]
    ) -> Generated:
        if job.operation != Capability.TEXT_TO_IMAGE.value:
            raise EngineError(f"z-image does not do {job.operation}", 400)
        width, height = self.size(job)
        images, elapsed = self.images(
            job,
            progress,
            stopped,
            width=width,
            height=height,
            negative_prompt=self.config.negative_prompt or None,
        )
        return Generated(images, 0.0, elapsed)
