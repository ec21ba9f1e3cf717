"""`reelserve engines check` loads the configured engine, generates once, prints the times."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from reelserve.cli import app
from tests.engines.conftest import TinyWeights


def test_engines_check_loads_ltx_and_prints_load_and_generation_times(
    tiny_weights: TinyWeights, tmp_path: Path
) -> None:
    env = {
        "REELSERVE_DATA_DIR": str(tmp_path),
        "REELSERVE_ENGINES": "text_to_video=ltx-video",
        "REELSERVE_LTX_MODEL_DIR": str(tiny_weights.ltx),
        "REELSERVE_LTX_WIDTH": "32",
        "REELSERVE_LTX_HEIGHT": "32",
        "REELSERVE_LTX_NUM_FRAMES": "9",
        "REELSERVE_LTX_STEPS": "2",
        "REELSERVE_DIFFUSERS_DEVICE": "cpu",
    }
    result = CliRunner().invoke(app, ["engines", "check"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert re.fullmatch(
        r"ltx-video: loaded in \d+\.\d\d s \(LTXConditionPipeline, cpu, float32\)", lines[0]
    ), lines
    assert re.fullmatch(
        r"ltx-video: text_to_video, 9 frames 32x32 at 24 fps in \d+\.\d\d s "
        r"\(pipeline \d+\.\d\d s\)",
        lines[1],
    ), lines


def test_engines_check_reports_missing_weights_as_an_error(tmp_path: Path) -> None:
    env = {
        "REELSERVE_DATA_DIR": str(tmp_path),
        "REELSERVE_ENGINES": "wan",
        "REELSERVE_WAN_MODEL_DIR": str(tmp_path / "absent"),
    }
    result = CliRunner().invoke(app, ["engines", "check"], env=env)
    assert result.exit_code == 2
    assert "is not a directory" in result.output
