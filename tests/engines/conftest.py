"""Tiny random-weight checkpoints (LTX, Wan; image engines), built once per session; settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass(frozen=True)
class TinyWeights:
    ltx: Path
    wan: Path
    """Wan 2.1-style: text_to_video and video_to_video."""
    wan_ti2v: Path
    """Wan 2.2 TI2V-style: image_to_video as well."""


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory: pytest.TempPathFactory) -> TinyWeights:
    from tests.tiny_pipelines import build_ltx, build_wan

    root = tmp_path_factory.mktemp("weights")
    return TinyWeights(
        ltx=build_ltx(root / "ltx"),
        wan=build_wan(root / "wan"),
        wan_ti2v=build_wan(root / "wan-ti2v", ti2v=True),
    )


def tiny_settings(weights: TinyWeights, **extra: Any) -> dict[str, Any]:
    """Server settings for the tiny checkpoints: 32×32, 9 frames, 2 steps, on CPU."""
    values: dict[str, Any] = {
        "engines": {
            "text_to_video": "ltx-video",
            "image_to_video": "ltx-video",
            "extend": "ltx-video",
            "video_to_video": "wan",
        },
        "ltx_model_dir": weights.ltx,
        "ltx_width": 32,
        "ltx_height": 32,
        "ltx_num_frames": 9,
        "ltx_steps": 2,
        "wan_model_dir": weights.wan,
        "wan_width": 32,
        "wan_height": 32,
        "wan_num_frames": 9,
        "wan_steps": 2,
        "diffusers_device": "cpu",
    }
    values.update(extra)
    return values


@dataclass(frozen=True)
class ImageWeights:
    """Tiny image checkpoints (tests/tiny_image_pipelines.py), one folder each."""

    zimage: Path
    kontext: Path
    flux: Path
    """FLUX.1 layout (FluxPipeline)."""
    klein: Path
    """FLUX.2 klein (Flux2KleinPipeline)."""
    qwen: Path
    """Qwen-Image (QwenImagePipeline)."""
    qwen_edit: Path
    """Qwen-Image-Edit-2509 layout (QwenImageEditPlusPipeline)."""


@pytest.fixture(scope="session")
def image_weights(tmp_path_factory: pytest.TempPathFactory) -> ImageWeights:
    from tests.tiny_image_pipelines import (
        build_flux,
        build_flux2_klein,
        build_flux_kontext,
        build_qwen_image,
        build_qwen_image_edit,
        build_zimage,
    )

    root = tmp_path_factory.mktemp("image-weights")
    return ImageWeights(
        zimage=build_zimage(root / "z-image"),
        kontext=build_flux_kontext(root / "kontext"),
        flux=build_flux(root / "flux"),
        klein=build_flux2_klein(root / "klein"),
        qwen=build_qwen_image(root / "qwen"),
        qwen_edit=build_qwen_image_edit(root / "qwen-edit"),
    )


def image_settings(weights: ImageWeights, **extra: Any) -> dict[str, Any]:
    """Settings for the tiny image checkpoints: 32×32 native, 2 steps, on CPU (no routes)."""
    # The tiny Qwen-Image-Edit checkpoint's processor class (tests/qwen_processor.py).
    values: dict[str, Any] = {
        "diffusers_device": "cpu",
        "diffusers_imports": "tests.qwen_processor",
    }
    for prefix, directory in (
        ("zimage", weights.zimage),
        ("flux_kontext", weights.kontext),
        ("flux", weights.flux),
        ("qwen_image", weights.qwen),
    ):
        values |= {
            f"{prefix}_model_dir": directory,
            f"{prefix}_width": 32,
            f"{prefix}_height": 32,
            f"{prefix}_steps": 2,
        }
    values["flux_max_sequence_length"] = 32
    values |= {
        "qwen_image_edit_model_dir": weights.qwen_edit,
        "qwen_image_guidance": 1.0,  # no true CFG: one pass a step
        # The Edit pipeline encodes references at 1024² whatever the output: seconds here.
        "qwen_image_edit_reference_size": 32,
        "qwen_image_edit_condition_size": 32,
    }
    values.update(extra)
    return values
