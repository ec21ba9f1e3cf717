"""docs/sdk.md and docs/cli.md: every `python` / `bash` block runs, in order, against a real
server, and what the examples make is checked (decoded videos, printed answers)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reelserve.media.decode import probe
from tests.support import RunningServer, png_bytes, run_server_with

DOCS = Path(__file__).resolve().parents[2] / "docs"
SECRET = "docs webhook secret"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.M | re.S)


def blocks(doc: str, language: str) -> list[str]:
    return [body for lang, body in FENCE.findall((DOCS / doc).read_text()) if lang == language]


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with run_server_with(tmp_path_factory.mktemp("docs"), {"alice": SECRET}) as running:
        yield running


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "photo.png").write_bytes(png_bytes(640, 480))
    return tmp_path


def doc_env(srv: RunningServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "KIE_API_KEY"}
    env.update(
        REELSERVE_BASE_URL=srv.base_url,
        REELSERVE_API_KEY=srv.keys["alice"],
        REELSERVE_WEBHOOK_SECRET=SECRET,
        # the `reelserve` of this interpreter first on PATH, as after installing it
        PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
        COLUMNS="120",
    )
    return env


def geometry(path: Path) -> tuple[int, int, int]:
    info = probe(path)
    return info.width, info.height, info.frame_count


def test_every_python_example_in_the_sdk_guide_runs(srv: RunningServer, workdir: Path) -> None:
    code = blocks("sdk.md", "python")
    assert len(code) >= 7
    script = "\n\n".join(f"# --- example {n} ---\n{body}" for n, body in enumerate(code, 1))
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=workdir,
        env=doc_env(srv),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "duration - duration: must be 5 or 10 (seconds)" in out
    assert "True True http://127.0.0.1:" in out  # the verified callback of the right task
    assert "delivered [204]" in out  # the receiver of the example answers 204
    assert "https://api.kie.ai https://kieai.redpandaai.co" in out
    assert "2147483647" in out
    assert geometry(workdir / "boat.mp4") == (1280, 720, 120)
    assert geometry(workdir / "longer.mp4") == (1280, 720, 240)
    assert geometry(workdir / "animated.mp4") == (960, 720, 120)
    assert geometry(workdir / "fox.mp4") == (852, 480, 48)
    assert geometry(workdir / "watercolour.mp4") == (960, 960, 48)
    assert geometry(workdir / "scene-0.mp4") == geometry(workdir / "scene-1.mp4") == (960, 960, 120)


def test_every_bash_example_in_the_cli_guide_runs(srv: RunningServer, workdir: Path) -> None:
    commands = blocks("cli.md", "bash")
    assert len(commands) >= 4
    script = "set -euo pipefail\n" + "\n".join(commands)
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=workdir,
        env=doc_env(srv),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert (
        "state     queueing" in out or "state     generating" in out or "state     success" in out
    )
    assert "2147483647" in out and "exit code 1" in out
    assert f"success {workdir / 'fox.mp4'}" in out
    assert "/files/uploads/" in out  # the upload's URL
    assert "error: duration: must be 5 or 10 (seconds)" in done.stderr
    assert geometry(workdir / "boat.mp4") == (1280, 720, 120)
    assert geometry(workdir / "lighthouse.mp4") == (720, 1280, 240)
    assert geometry(workdir / "sunset.mp4") == (960, 720, 120)
    assert geometry(workdir / "watercolour.mp4") == (960, 960, 120)
    assert geometry(workdir / "fox.mp4") == (960, 960, 120)
