"""Each GPU setting reaches every image engine's pipeline (none can be timed here: no GPU).

As tests/engines/test_gpu_settings.py does for video: checked on the pipeline
object loaded from the tiny checkpoint the way the engine's child loads it
(`load_pipeline`). End to end, from Settings through the child process to
what it reports: the klein server of test_image_engine_child.py.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import torch

from reelserve.engines.diffusers.config import DiffusersConfig
from reelserve.engines.diffusers.image_factory import (
    flux_config,
    flux_kontext_config,
    qwen_image_config,
    zimage_config,
)
from reelserve.settings import Settings
from tests.engines.conftest import ImageWeights, image_settings

TUNED = {
    "diffusers_dtype": "bfloat16",
    "diffusers_device": "cpu",
    "diffusers_compile": True,
    "diffusers_vae_tiling": True,
    "diffusers_vae_slicing": True,
    "diffusers_offload": "model",
}
CHECKPOINTS = {
    "z-image": ("ZImagePipeline", ("transformer", "vae", "text_encoder")),
    "flux-kontext": ("FluxKontextPipeline", ("transformer", "vae", "text_encoder_2")),
    "flux": ("FluxPipeline", ("transformer", "vae", "text_encoder", "text_encoder_2")),
    "klein": ("Flux2KleinPipeline", ("transformer", "vae", "text_encoder")),
    "qwen-image": ("QwenImagePipeline", ("transformer", "vae", "text_encoder")),
    "qwen-edit": ("QwenImageEditPlusPipeline", ("transformer", "vae", "text_encoder")),
}


def config_for(weights: ImageWeights, name: str, **settings: Any) -> DiffusersConfig:
    if name == "klein":
        settings["flux_model_dir"] = weights.klein
    if name == "qwen-edit":
        settings["qwen_image_model_dir"] = weights.qwen_edit  # loaded here as the main one
    made = Settings(**image_settings(weights, **settings))
    if name == "z-image":
        return zimage_config(made)
    if name.startswith("qwen"):
        return qwen_image_config(made)
    return flux_kontext_config(made) if name == "flux-kontext" else flux_config(made)


def load(cls_name: str, config: DiffusersConfig) -> Any:
    import diffusers

    from reelserve.engines.diffusers.loading import load_pipeline

    return load_pipeline(getattr(diffusers, cls_name), config)


@pytest.mark.parametrize("name", sorted(CHECKPOINTS))
def test_every_gpu_setting_is_applied_to_the_image_pipeline(
    image_weights: ImageWeights, name: str
) -> None:
    cls_name, models = CHECKPOINTS[name]
    config = config_for(image_weights, name, **TUNED)
    assert (config.dtype, config.device, config.compile, config.offload) == (
        "bfloat16",
        "cpu",
        True,
        "model",
    )
    pipe = load(cls_name, config)
    assert type(pipe).__name__ == cls_name
    for part in models:
        model = getattr(pipe, part)
        assert model.dtype == torch.bfloat16, part
        assert hasattr(model, "_hf_hook"), part  # model CPU offload: accelerate hooks
    assert pipe.vae.use_tiling is True and pipe.vae.use_slicing is True
    repeated = pipe.transformer._repeated_blocks
    blocks = [m for m in pipe.transformer.modules() if type(m).__name__ in repeated]
    assert blocks and all(b._compiled_call_impl is not None for b in blocks)

    plain = load(
        cls_name,
        dataclasses.replace(
            config, dtype="auto", compile=False, vae_tiling=False, vae_slicing=False, offload="none"
        ),
    )
    assert plain.transformer.dtype == torch.float32 and plain.transformer.device.type == "cpu"
    assert plain.vae.use_tiling is False and plain.vae.use_slicing is False
    assert not hasattr(plain.transformer, "_hf_hook")
    blocks = [m for m in plain.transformer.modules() if type(m).__name__ in repeated]
    assert all(b._compiled_call_impl is None for b in blocks)


def test_sequential_offload_hooks_every_model(image_weights: ImageWeights) -> None:
    pipe = load(
        "ZImagePipeline", config_for(image_weights, "z-image", diffusers_offload="sequential")
    )
    for part in ("transformer", "vae", "text_encoder"):
        assert hasattr(getattr(pipe, part), "_hf_hook"), part


def test_diffusers_imports_are_imported_before_loading_or_named_in_the_error(
    image_weights: ImageWeights,
) -> None:
    from reelserve.engines.base import EngineError

    config = config_for(image_weights, "qwen-edit")
    assert config.imports == ("tests.qwen_processor",)
    assert type(load("QwenImageEditPlusPipeline", config).processor).__name__ == (
        "ImageOnlyQwen2VLProcessor"
    )
    with pytest.raises(EngineError, match="REELSERVE_DIFFUSERS_IMPORTS names 'no_such_mod'"):
        load("QwenImageEditPlusPipeline", dataclasses.replace(config, imports=("no_such_mod",)))
