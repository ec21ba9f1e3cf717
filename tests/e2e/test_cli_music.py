"""`reelserve music` as a user runs it: a subprocess against a real server (the synthetic
music engine); the two MP3s it saves decoded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reelserve.media.audio import decode_audio
from tests.receivers import Receiver, Reply
from tests.support import RunningServer, run_server

CLI = [sys.executable, "-m", "reelserve"]
ONE_LINE_SECONDS = 30 + 4


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with run_server(tmp_path_factory.mktemp("cli-music"), worker_poll_s=0.1) as running:
        yield running


@pytest.fixture(scope="module")
def env(srv: RunningServer) -> Iterator[dict[str, str]]:
    with Receiver() as receiver:
        yield {
            **{k: v for k, v in os.environ.items() if k != "KIE_API_KEY"},
            "REELSERVE_BASE_URL": srv.base_url,
            "REELSERVE_API_KEY": srv.keys["alice"],
            "REELSERVE_CALLBACK_URL": receiver.script("/music", Reply(200)),
        }


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "music", *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_generate_waits_shows_the_stages_and_saves_two_decodable_mp3s(
    env: dict[str, str], tmp_path: Path
) -> None:
    done = run(
        env,
        "generate",
        "--lyrics-text",
        "[Verse]\nRain is falling on the roof",
        "--style",
        "folk, 100 bpm",
        "--title",
        "Rain",
        "--wait",
        "--out",
        str(tmp_path),
        "--json",
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["stage"] == "SUCCESS" and data["kind"] == "suno"
    assert "SUCCESS" in done.stderr  # the stage lines
    mp3s = [Path(f) for f in data["files"] if f.endswith(".mp3")]
    assert len(mp3s) == 2 and len(data["files"]) == 4  # and the two covers
    ids = [t["id"] for t in data["record"]["response"]["sunoData"]]
    assert [p.stem for p in mp3s] == ids
    for path in mp3s:
        assert path.parent == tmp_path
        assert abs(decode_audio(path).seconds - ONE_LINE_SECONDS) < 1.0
