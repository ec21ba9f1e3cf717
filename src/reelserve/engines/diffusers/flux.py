"""`flux`: FLUX.1 (schnell/dev, FluxPipeline) or FLUX.2 klein (Flux2KleinPipeline), text_to_image.

Which pipeline runs is the checkpoint's own (model_index.json `_class_name`),
checked at start-up. `count` images of the native pixel area at the request's
aspect ratio come from one call (`num_images_per_prompt`); the server fits
them to the asked size.

FLUX.2 klein's prompt embedding stacks hidden states of several text-encoder
layers (9, 18 and 27 of Qwen3's 36 by default); how many is fixed by the
transformer (`joint_attention_dim` = layers x encoder width), and they are
taken evenly spaced, which gives exactly the pipeline's default on the
published checkpoints.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reelserve.engines.base import Capability, EngineError
from reelserve.engines.diffusers.config import DiffusersConfig
from reelserve.engines.diffusers.image_runner import ImageEngine, ImageRunner, checked_index
from reelserve.engines.diffusers.weights import WeightsError, components
from reelserve.engines.isolated import Generated, Job

REQUIRED = ("transformer", "vae", "text_encoder", "tokenizer", "scheduler")
FLUX1_REQUIRED = ("text_encoder_2", "tokenizer_2")
"""FLUX.1 also has T5 (text_encoder_2) beside CLIP; FLUX.2 klein has one Qwen3 encoder."""


class FluxEngine(ImageEngine):
    name = "flux"
    capabilities = frozenset({Capability.TEXT_TO_IMAGE})
    description = "FLUX.1 schnell/dev (diffusers FluxPipeline) in a child process"
    target = "reelserve.engines.diffusers.flux:FluxRunner"


class Flux2KleinEngine(FluxEngine):
    description = "FLUX.2 klein (diffusers Flux2KleinPipeline) in a child process"
    target = "reelserve.engines.diffusers.flux:Flux2KleinRunner"


def engine_class(config: DiffusersConfig) -> type[ImageEngine]:
    """Preflight: FluxPipeline (with its T5 encoder) or Flux2KleinPipeline."""
    found, index = checked_index(config, REQUIRED, "FluxPipeline", "Flux2KleinPipeline")
    if found == "Flux2KleinPipeline":
        return Flux2KleinEngine
    missing = [name for name in FLUX1_REQUIRED if name not in components(index)]
    if missing:
        raise WeightsError(
            f"engine 'flux': {config.model_dir}/model_index.json lists no {', '.join(missing)} "
            "(FluxPipeline needs the T5 encoder and its tokenizer)"
        )
    return FluxEngine


def encoder_layers(hidden_layers: int, joint_dim: int, encoder_width: int) -> tuple[int, ...]:
    """The Qwen3 layers whose hidden states make klein's prompt embedding, evenly spaced.

    >>> encoder_layers(36, 7680, 2560)  # FLUX.2 klein 4B: the pipeline's default
    (9, 18, 27)
    >>> encoder_layers(2, 16, 16)
    (1,)
    """
    count = max(1, joint_dim // encoder_width)
    return tuple(round(hidden_layers * i / (count + 1)) for i in range(1, count + 1))


class FluxRunner(ImageRunner):
    pipeline_class = "FluxPipeline"

    def extra(self) -> dict[str, Any]:
        return {"max_sequence_length": self.config.max_sequence_length or 512}

    def generate(
        self, job: Job, progress: Callable[[float], None], stopped: Callable[[], bool]
    ) -> Generated:
        if job.operation != Capability.TEXT_TO_IMAGE.value:
            raise EngineError(f"flux does not do {job.operation}", 400)
        width, height = self.size(job)
        images, elapsed = self.images(
            job, progress, stopped, width=width, height=height, **self.extra()
        )
        return Generated(images, 0.0, elapsed)


class Flux2KleinRunner(FluxRunner):
    pipeline_class = "Flux2KleinPipeline"

    def extra(self) -> dict[str, Any]:
        encoder = self.pipe.text_encoder.config
        layers = encoder_layers(
            encoder.num_hidden_layers,
            self.pipe.transformer.config.joint_attention_dim,
            encoder.hidden_size,
        )
        return {**super().extra(), "text_encoder_out_layers": layers}
