"""`reelserve veo` and `reelserve image` as a user runs them: subprocesses against a real
server; the downloaded video and images decoded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import av
import pytest
from PIL import Image

from tests.support import RunningServer, png_bytes, run_server

CLI = [sys.executable, "-m", "reelserve"]


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with run_server(tmp_path_factory.mktemp("cli-families")) as running:
        yield running


@pytest.fixture
def env(srv: RunningServer) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if k != "KIE_API_KEY"},
        "REELSERVE_BASE_URL": srv.base_url,
        "REELSERVE_API_KEY": srv.keys["alice"],
    }


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=180)


def test_veo_waits_and_downloads_a_video_with_sound(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "veo.mp4"
    done = run(
        env, "veo", "A lighthouse at dusk", "--ratio", "9:16", "--duration", "4", "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == str(out)
    with av.open(str(out)) as container:
        video = container.streams.video[0].codec_context
        assert (video.width, video.height) == (720, 1280)
        assert len(container.streams.audio) == 1


def test_image_with_4o_and_with_flux_kontext(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "wide.png"
    done = run(env, "image", "A red kite", "--ratio", "3:2", "--out", str(out), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["state"] == "success"  # the SDK reads 4o's SUCCESS as success
    assert Image.open(out).size == (1536, 1024)
    source = tmp_path / "in.png"
    source.write_bytes(png_bytes(600, 400))
    edited = tmp_path / "edited.jpg"
    done = run(
        env,
        "image",
        "Make it night",
        "--family",
        "flux",
        "--edit",
        str(source),
        "--out",
        str(edited),
    )
    assert done.returncode == 0, done.stderr
    with Image.open(edited) as image:
        assert image.format == "JPEG"
        assert abs(image.width / image.height - 1.5) < 0.02


def test_an_unknown_image_family_is_a_usage_error(env: dict[str, str]) -> None:
    done = run(env, "image", "x", "--family", "dalle")
    assert done.returncode == 2
    assert "--family" in done.stderr
