"""Tiny random-weight LTX and Wan checkpoints, built once per session, and server settings."""

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
