"""A missing or incomplete weights directory is a start-up error naming what is missing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reelserve.app import create_app
from reelserve.engines.base import Capability
from reelserve.engines.diffusers.weights import WeightsError
from reelserve.engines.registry import EngineUnavailable
from reelserve.settings import Settings
from tests.engines.conftest import TinyWeights, tiny_settings


@pytest.fixture
def ltx_copy(tiny_weights: TinyWeights, tmp_path: Path) -> Path:
    return Path(shutil.copytree(tiny_weights.ltx, tmp_path / "ltx"))


def start(tmp_path: Path, weights: TinyWeights, **changes: object) -> None:
    create_app(Settings(**tiny_settings(weights, data_dir=tmp_path / "data", **changes)))


def test_a_complete_directory_passes_the_start_up_check(
    tiny_weights: TinyWeights, tmp_path: Path
) -> None:
    start(tmp_path, tiny_weights)  # no error, and no model loaded yet


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: shutil.rmtree(d / "vae"), "subfolder 'vae' is missing"),
        (
            lambda d: (d / "transformer" / "config.json").unlink(),
            "transformer/config.json is missing",
        ),
        (
            lambda d: [p.unlink() for p in (d / "text_encoder").glob("*.safetensors")],
            "subfolder 'text_encoder' has no weights file",
        ),
        (
            lambda d: (d / "scheduler" / "scheduler_config.json").unlink(),
            "scheduler/scheduler_config.json is missing",
        ),
        (lambda d: (d / "model_index.json").unlink(), "has no model_index.json"),
    ],
)
def test_an_incomplete_ltx_directory_names_what_is_missing(
    tiny_weights: TinyWeights, ltx_copy: Path, tmp_path: Path, damage: object, message: str
) -> None:
    damage(ltx_copy)  # type: ignore[operator]
    with pytest.raises(WeightsError, match="engine 'ltx-video'") as caught:
        start(tmp_path, tiny_weights, ltx_model_dir=ltx_copy)
    assert message in str(caught.value)


def test_a_missing_shard_of_a_sharded_checkpoint_is_named(
    tiny_weights: TinyWeights, ltx_copy: Path, tmp_path: Path
) -> None:
    folder = ltx_copy / "transformer"
    (weights,) = folder.glob("*.safetensors")
    weights.rename(folder / "diffusion_pytorch_model-00001-of-00002.safetensors")
    index = {
        "weight_map": {
            "a": "diffusion_pytorch_model-00001-of-00002.safetensors",
            "b": "diffusion_pytorch_model-00002-of-00002.safetensors",
        }
    }
    (folder / "diffusion_pytorch_model.safetensors.index.json").write_text(json.dumps(index))
    with pytest.raises(WeightsError, match=r"00002-of-00002\.safetensors is missing"):
        start(tmp_path, tiny_weights, ltx_model_dir=ltx_copy)


def test_an_unset_or_absent_model_dir_names_the_setting(
    tiny_weights: TinyWeights, tmp_path: Path
) -> None:
    with pytest.raises(WeightsError, match="needs REELSERVE_LTX_MODEL_DIR"):
        start(tmp_path, tiny_weights, ltx_model_dir=None)
    with pytest.raises(WeightsError, match=r"REELSERVE_WAN_MODEL_DIR=.*nowhere is not a directory"):
        start(tmp_path, tiny_weights, wan_model_dir=tmp_path / "nowhere")


def test_image_to_video_on_a_wan_checkpoint_without_ti2v_is_refused_at_start(
    tiny_weights: TinyWeights, tmp_path: Path
) -> None:
    with pytest.raises(WeightsError, match=r"image_to_video needs a Wan 2\.2 TI2V checkpoint"):
        start(
            tmp_path,
            tiny_weights,
            engines={"image_to_video": "wan"},
            wan_model_dir=tiny_weights.wan,
        )
    start(
        tmp_path,
        tiny_weights,
        engines={"image_to_video": "wan"},
        wan_model_dir=tiny_weights.wan_ti2v,
    )


def test_an_operation_the_engine_cannot_do_is_refused_at_start(
    tiny_weights: TinyWeights, tmp_path: Path
) -> None:
    with pytest.raises(EngineUnavailable, match="gives 'ltx-video' video_to_video"):
        start(tmp_path, tiny_weights, engines=dict.fromkeys(Capability, "ltx-video"))


def test_reelserve_serve_exits_with_the_message_instead_of_a_traceback(
    ltx_copy: Path, tmp_path: Path
) -> None:
    shutil.rmtree(ltx_copy / "vae")
    env = {
        **os.environ,
        "REELSERVE_DATA_DIR": str(tmp_path / "data"),
        "REELSERVE_ENGINES": "text_to_video=ltx-video",
        "REELSERVE_LTX_MODEL_DIR": str(ltx_copy),
        "REELSERVE_PORT": "0",
    }
    done = subprocess.run(
        [sys.executable, "-m", "reelserve", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done
    assert "subfolder 'vae' is missing" in done.stderr
    assert "Traceback" not in done.stderr
