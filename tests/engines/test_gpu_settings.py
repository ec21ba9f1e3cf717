"""Each GPU setting reaches the pipeline (none can be timed here: no GPU).

Checked on the pipeline object a setting changes, loaded from the tiny
checkpoint the way the engine's child loads it (`load_pipeline`), and once
end to end: from Settings through the child process to what it reports.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import torch

from reelserve.engines.base import EngineError
from reelserve.engines.diffusers.config import DiffusersConfig, ltx_config, wan_config
from reelserve.engines.registry import registry_for
from reelserve.settings import Settings
from tests.engines.conftest import TinyWeights, tiny_settings


def config(weights: TinyWeights, **changes: Any) -> DiffusersConfig:
    base = ltx_config(Settings(**tiny_settings(weights)))
    return dataclasses.replace(base, **changes)


def load(weights: TinyWeights, **changes: Any) -> Any:
    from diffusers import LTXConditionPipeline

    from reelserve.engines.diffusers.loading import load_pipeline

    return load_pipeline(LTXConditionPipeline, config(weights, **changes))


def test_dtype_auto_is_float32_on_cpu_and_bfloat16_is_applied_to_every_model(
    tiny_weights: TinyWeights,
) -> None:
    assert load(tiny_weights, dtype="auto").transformer.dtype == torch.float32
    pipe = load(tiny_weights, dtype="bfloat16")
    assert pipe.transformer.dtype == torch.bfloat16
    assert pipe.text_encoder.dtype == torch.bfloat16


def test_dtype_auto_means_bfloat16_on_cuda() -> None:
    from reelserve.engines.diffusers.loading import resolve_dtype

    assert resolve_dtype("auto", torch.device("cuda")) == torch.bfloat16
    assert resolve_dtype("float16", torch.device("cuda")) == torch.float16


def test_the_device_setting_is_checked_against_this_host(tiny_weights: TinyWeights) -> None:
    from reelserve.engines.devices import resolve_device

    assert load(tiny_weights, device="cpu").device.type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(EngineError, match="CUDA is not available"):
            load(tiny_weights, device="cuda:0")
    with pytest.raises(EngineError, match="REELSERVE_DIFFUSERS_DEVICE='gpu0' is not a device"):
        resolve_device("gpu0")


def test_vae_tiling_is_enabled_on_the_vae_only_when_asked(tiny_weights: TinyWeights) -> None:
    assert load(tiny_weights, vae_tiling=True).vae.use_tiling is True
    assert load(tiny_weights, vae_tiling=False).vae.use_tiling is False


@pytest.mark.parametrize("mode", ["model", "sequential"])
def test_cpu_offload_installs_accelerate_hooks_on_every_model(
    tiny_weights: TinyWeights, mode: str
) -> None:
    pipe = load(tiny_weights, offload=mode)
    for name in ("transformer", "vae", "text_encoder"):
        assert hasattr(getattr(pipe, name), "_hf_hook"), name
    plain = load(tiny_weights, offload="none")
    assert not hasattr(plain.transformer, "_hf_hook")


def test_compile_compiles_the_transformers_repeated_blocks(tiny_weights: TinyWeights) -> None:
    # Compilation itself happens at the first call (minutes on a GPU host);
    # what is checked is that every repeated block was handed to torch.compile.
    pipe = load(tiny_weights, compile=True)
    blocks = pipe.transformer.transformer_blocks
    assert len(blocks) >= 1
    assert all(block._compiled_call_impl is not None for block in blocks)
    plain = load(tiny_weights, compile=False)
    assert all(block._compiled_call_impl is None for block in plain.transformer.transformer_blocks)


def test_settings_map_to_each_engines_configuration(tiny_weights: TinyWeights) -> None:
    settings = Settings(
        **tiny_settings(
            tiny_weights,
            diffusers_dtype="float16",
            diffusers_device="cuda:1",
            diffusers_compile=True,
            diffusers_vae_tiling=True,
            diffusers_offload="sequential",
            wan_strength=0.55,
        )
    )
    for made in (ltx_config(settings), wan_config(settings)):
        assert (made.dtype, made.device, made.compile, made.vae_tiling, made.offload) == (
            "float16",
            "cuda:1",
            True,
            True,
            "sequential",
        )
    assert wan_config(settings).strength == 0.55
    assert ltx_config(settings).operations == ("text_to_video", "image_to_video", "extend")


def test_the_engine_child_loads_with_every_setting_applied(tiny_weights: TinyWeights) -> None:
    settings = Settings(
        **tiny_settings(
            tiny_weights,
            diffusers_dtype="bfloat16",
            diffusers_compile=True,
            diffusers_vae_tiling=True,
            diffusers_offload="model",
        )
    )
    registry = registry_for({}, settings)
    try:
        engine = registry.get("ltx-video")
        info = engine.stats.info  # type: ignore[attr-defined]
    finally:
        registry.close()
    assert info["dtype"] == "bfloat16"
    assert info["device"] == "cpu"
    assert info["vae_tiling"] is True
    assert info["offloaded"] is True
    assert info["compiled_blocks"] == 1
