"""`reelserve quickstart` end to end: its own server, the SDK-driven demo, three videos."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from reelserve.media.decode import probe


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_quickstart_makes_three_videos_and_receives_the_callback(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "REELSERVE_DATA_DIR": str(tmp_path / "data"),
        "REELSERVE_PORT": str(_free_port()),
        "REELSERVE_X264_PRESET": "ultrafast",
    }
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "reelserve", "quickstart", "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "callback received at http://127.0.0.1:" in done.stdout
    assert '"msg": "All generated successfully."' in done.stdout
    assert "extension: success 100%" in done.stdout
    assert done.stdout.count("h264/yuv420p") == 3 and "server stopped." in done.stdout
    expected = {
        "text-to-video": (1280, 720, 120),
        "image-to-video": (960, 720, 120),
        "extension": (1280, 720, 240),
    }
    for label, geometry in expected.items():
        info = probe(out / f"{label}.mp4")
        assert (info.width, info.height, info.frame_count) == geometry, label
    # The Suno step: two decodable tracks of the length rule (2 lyric lines: 38 s) and
    # the three staged callbacks in order.
    assert "callbacks received in order: text, first, complete" in done.stdout
    from reelserve.media.audio import probe_audio

    for name in ("song-1.mp3", "song-2.mp3"):
        audio = probe_audio(out / name)
        assert audio.codec == "mp3" and abs(audio.seconds - 38) < 2, (name, audio)
