"""Loading a diffusers pipeline from local weights, with the GPU settings applied.

Runs in the engine's child process; torch and diffusers are imported here,
never by the server process.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from reelserve.engines.base import EngineError
from reelserve.engines.devices import resolve_device
from reelserve.engines.diffusers.config import DiffusersConfig

log = logging.getLogger("reelserve.engines")

DTYPES = {"bfloat16": "bfloat16", "float16": "float16", "float32": "float32"}


def resolve_dtype(setting: str, device: Any) -> Any:
    """`auto` -> bfloat16 on CUDA (what LTX and Wan are trained and published in), else float32."""
    import torch

    if setting == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    return getattr(torch, DTYPES[setting])


def load_pipeline(cls: Any, config: DiffusersConfig, **overrides: Any) -> Any:
    """`cls.from_pretrained(model_dir, local_files_only=True)` with dtype, device and tuning."""
    for module in config.imports:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise EngineError(
                f"REELSERVE_DIFFUSERS_IMPORTS names {module!r}, which does not import: {exc}"
            ) from None
    device = resolve_device(config.device)
    dtype = resolve_dtype(config.dtype, device)
    pipe = cls.from_pretrained(
        str(config.model_dir), local_files_only=True, dtype=dtype, **overrides
    )
    apply_tuning(pipe, config, device)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def apply_tuning(pipe: Any, config: DiffusersConfig, device: Any) -> None:
    """VAE tiling and slicing, CPU offload (or placement on the device), regional compilation."""
    if config.vae_tiling:
        pipe.vae.enable_tiling()
    if config.vae_slicing:
        pipe.vae.enable_slicing()
    if config.offload == "model":
        pipe.enable_model_cpu_offload(device=device)
    elif config.offload == "sequential":
        pipe.enable_sequential_cpu_offload(device=device)
    elif device.type != "cpu":  # from_pretrained loads onto the CPU already
        pipe.to(device)
    if config.compile:
        # Regional compilation: the repeated transformer block is compiled once
        # and reused for every layer, so start-up costs seconds, not minutes
        # (diffusers' compile_repeated_blocks).
        for name in ("transformer", "transformer_2"):
            model = getattr(pipe, name, None)
            if model is not None:
                model.compile_repeated_blocks(fullgraph=True)


def describe(pipe: Any, device: Any) -> dict[str, Any]:
    """What was loaded, as the child reports it to the server."""
    model = pipe.transformer
    blocks = [m for m in model.modules() if type(m).__name__ in model._repeated_blocks]
    models = [m for m in pipe.components.values() if hasattr(m, "parameters")]
    return {
        "pipeline": type(pipe).__name__,
        "device": str(device),
        "dtype": str(model.dtype).removeprefix("torch."),
        "parameters": sum(p.numel() for p in model.parameters()),
        "vae_tiling": bool(getattr(pipe.vae, "use_tiling", False)),
        "vae_slicing": bool(getattr(pipe.vae, "use_slicing", False)),
        "offloaded": bool(models) and all(hasattr(m, "_hf_hook") for m in models),
        "compiled_blocks": sum(1 for b in blocks if b._compiled_call_impl is not None),
    }
