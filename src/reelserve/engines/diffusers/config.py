"""What a diffusers engine needs from Settings, as one picklable value for its child process."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from reelserve.settings import Settings


@dataclass(frozen=True)
class DiffusersConfig:
    """One engine's configuration (`REELSERVE_LTX_*` / `REELSERVE_WAN_*` + `DIFFUSERS_*`)."""

    engine: str
    model_dir: Path | None
    setting: str
    """The env var naming the model directory, for error messages."""
    width: int
    height: int
    num_frames: int
    fps: int
    steps: int
    guidance: float
    negative_prompt: str
    strength: float = 0.7
    device: str = "auto"
    dtype: str = "auto"
    compile: bool = False
    vae_tiling: bool = False
    vae_slicing: bool = False
    offload: str = "none"
    operations: tuple[str, ...] = ()
    """The operations REELSERVE_ENGINES gives this engine."""
    imports: tuple[str, ...] = ()
    """Modules to import in the child before loading (REELSERVE_DIFFUSERS_IMPORTS)."""
    max_sequence_length: int | None = None
    """Prompt tokens the text encoder takes (None: the pipeline's default)."""


class _Shared(TypedDict):
    """The DIFFUSERS_* settings and the engine's operations: the same for every engine."""

    operations: tuple[str, ...]
    device: str
    dtype: str
    compile: bool
    vae_tiling: bool
    vae_slicing: bool
    offload: str
    imports: tuple[str, ...]


def shared_settings(settings: Settings, engine: str) -> _Shared:
    return {
        "operations": tuple(op.value for op, name in settings.engines.items() if name == engine),
        "device": settings.diffusers_device,
        "dtype": settings.diffusers_dtype,
        "compile": settings.diffusers_compile,
        "vae_tiling": settings.diffusers_vae_tiling,
        "vae_slicing": settings.diffusers_vae_slicing,
        "offload": settings.diffusers_offload,
        "imports": tuple(m.strip() for m in settings.diffusers_imports.split(",") if m.strip()),
    }


def ltx_config(settings: Settings) -> DiffusersConfig:
    return DiffusersConfig(
        engine="ltx-video",
        model_dir=settings.ltx_model_dir,
        setting="REELSERVE_LTX_MODEL_DIR",
        width=settings.ltx_width,
        height=settings.ltx_height,
        num_frames=settings.ltx_num_frames,
        fps=settings.ltx_fps,
        steps=settings.ltx_steps,
        guidance=settings.ltx_guidance,
        negative_prompt=settings.ltx_negative_prompt,
        **shared_settings(settings, "ltx-video"),
    )


def wan_config(settings: Settings) -> DiffusersConfig:
    return DiffusersConfig(
        engine="wan",
        model_dir=settings.wan_model_dir,
        setting="REELSERVE_WAN_MODEL_DIR",
        width=settings.wan_width,
        height=settings.wan_height,
        num_frames=settings.wan_num_frames,
        fps=settings.wan_fps,
        steps=settings.wan_steps,
        guidance=settings.wan_guidance,
        negative_prompt=settings.wan_negative_prompt,
        strength=settings.wan_strength,
        **shared_settings(settings, "wan"),
    )
