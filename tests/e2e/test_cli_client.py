"""The client commands of `reelserve` as a user runs them: subprocesses against a real
server on loopback; downloaded videos decoded; the progress bar seen through a pty."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reelserve.client import Client
from reelserve.media.decode import probe
from tests.receivers import closed_port
from tests.support import RunningServer, png_bytes, run_server

CLI = [sys.executable, "-m", "reelserve"]


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with run_server(tmp_path_factory.mktemp("cli-client")) as running:
        yield running


@pytest.fixture
def env(srv: RunningServer) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("KIE_API_KEY",)}
    return {
        **clean,
        "REELSERVE_BASE_URL": srv.base_url,
        "REELSERVE_API_KEY": srv.keys["alice"],
        "COLUMNS": "120",
    }


def run(
    env: dict[str, str], *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=180, cwd=cwd
    )


def geometry(path: Path) -> tuple[int, int, int]:
    info = probe(path)
    return info.width, info.height, info.frame_count


def test_generate_waits_and_downloads_a_decodable_video(
    env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "boat.mp4"
    done = run(
        env, "generate", "A paper boat", "--ratio", "9:16", "--watermark", "cli", "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == str(out)
    assert geometry(out) == (720, 1280, 120)


def test_generate_without_wait_prints_the_task_id_and_status_follows_it(
    env: dict[str, str],
) -> None:
    submitted = run(env, "generate", "A lighthouse", "--json")
    assert submitted.returncode == 0, submitted.stderr
    answer = json.loads(submitted.stdout)
    assert answer["kind"] == "runway"
    task_id = answer["taskId"]
    deadline = time.monotonic() + 120
    while True:
        shown = run(env, "status", task_id, "--json")
        assert shown.returncode == 0, shown.stderr
        record = json.loads(shown.stdout)
        if record["state"] == "success" or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert record["state"] == "success" and record["taskId"] == task_id
    assert httpx.get(record["videoUrl"]).status_code == 200
    plain = run(env, "status", task_id)
    assert plain.returncode == 0
    assert "state     success" in plain.stdout and "progress  100%" in plain.stdout
    assert f"{task_id} (runway)" in plain.stdout


def test_a_local_image_is_uploaded_first(env: dict[str, str], tmp_path: Path) -> None:
    photo = tmp_path / "photo.png"
    photo.write_bytes(png_bytes(640, 480))
    done = run(
        env, "generate", "It comes alive", "--image", str(photo), "--wait", "--json", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "uploading" in done.stderr
    result = json.loads(done.stdout)
    saved = tmp_path / f"{result['taskId']}.mp4"  # the default file name, in the cwd
    assert result["path"] == str(saved)
    assert geometry(saved) == (960, 720, 120)  # 4:3, from the image


def test_extend_from_the_command_line(env: dict[str, str], tmp_path: Path) -> None:
    first = json.loads(
        run(
            env,
            "generate",
            "A road",
            "--ratio",
            "1:1",
            "--wait",
            "--json",
            "--out",
            str(tmp_path / "road.mp4"),
        ).stdout
    )
    ext = run(
        env, "extend", first["taskId"], "The road ends", "--out", str(tmp_path / "x.mp4"), "--json"
    )
    assert ext.returncode == 0, ext.stderr
    assert json.loads(ext.stdout)["state"] == "success"
    assert geometry(tmp_path / "x.mp4") == (960, 960, 240)


def test_aleph_uploads_a_local_video_and_restyles_it(
    env: dict[str, str], srv: RunningServer, tmp_path: Path
) -> None:
    with Client(api_key=srv.keys["alice"], base_url=srv.base_url) as sdk:
        job = sdk.jobs.create(
            "synthetic/text-to-video", {"prompt": "src", "duration": 1, "resolution": "360p"}
        )
        source = job.download(tmp_path / "source.mp4", timeout=120)
    aleph = run(
        env,
        "aleph",
        str(source),
        "as ink",
        "--ratio",
        "16:9",
        "--seed",
        "3",
        "--out",
        str(tmp_path / "ink.mp4"),
        "--json",
    )
    assert aleph.returncode == 0, aleph.stderr
    assert "uploading" in aleph.stderr  # the local video went up first
    assert geometry(tmp_path / "ink.mp4") == (1280, 720, 24)
    shown = run(env, "status", json.loads(aleph.stdout)["taskId"])
    assert shown.returncode == 0 and "(aleph)" in shown.stdout and "success" in shown.stdout


def test_upload_prints_a_url_that_serves_the_file(env: dict[str, str], tmp_path: Path) -> None:
    clip = tmp_path / "notes.png"
    clip.write_bytes(png_bytes(50, 40))
    done = run(env, "upload", str(clip))
    assert done.returncode == 0, done.stderr
    url = done.stdout.strip()
    assert url.endswith(".png") or "/notes.png?" in url
    assert httpx.get(url).content == clip.read_bytes()
    as_json = json.loads(run(env, "upload", str(clip), "--name", "n2.png", "--json").stdout)
    assert as_json["fileName"] == "n2.png" and as_json["mimeType"] == "image/png"


def test_credits_plain_and_json(env: dict[str, str]) -> None:
    assert run(env, "credits").stdout.strip() == "2147483647"
    assert json.loads(run(env, "credits", "--json").stdout) == {"credits": 2147483647}


def test_flags_override_the_environment_and_kie_api_key_is_read(
    env: dict[str, str], srv: RunningServer
) -> None:
    bare = {k: v for k, v in env.items() if not k.startswith("REELSERVE_")}
    with_flags = run(bare, "credits", "--base-url", srv.base_url, "--api-key", srv.keys["bob"])
    assert with_flags.returncode == 0 and with_flags.stdout.strip() == "2147483647"
    kie = run(
        {**bare, "KIE_API_KEY": srv.keys["bob"], "REELSERVE_BASE_URL": srv.base_url}, "credits"
    )
    assert kie.returncode == 0, kie.stderr


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_bad_input_is_one_clear_line_and_exit_1(env: dict[str, str]) -> None:
    bad = run(env, "generate", "x", "--duration", "7")
    assert bad.returncode == 1 and bad.stdout == ""
    assert "duration" in one_line(bad) and "5 or 10" in bad.stderr
    as_json = run(env, "generate", "x", "--quality", "4k", "--json")
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout) == {
        "error": json.loads(as_json.stdout)["error"],
        "code": 422,
        "kind": "ValidationError",
    }
    assert "quality" in one_line(as_json)


def test_usage_problems_exit_2(env: dict[str, str], tmp_path: Path) -> None:
    no_key = run({**env, "REELSERVE_API_KEY": ""}, "credits")
    assert no_key.returncode == 2 and "API key" in one_line(no_key)
    missing = run(env, "generate", "x", "--image", str(tmp_path / "nope.png"))
    assert missing.returncode == 2 and "--image" in one_line(missing)
    assert run(env, "upload", str(tmp_path / "nope.mp4")).returncode == 2


def test_server_refusals_and_an_unreachable_server_exit_1(env: dict[str, str]) -> None:
    wrong = run({**env, "REELSERVE_API_KEY": "rs_wrong"}, "credits")
    assert wrong.returncode == 1 and "access permissions" in one_line(wrong)
    unknown = run(env, "status", "6f0c5b1e-0000-4000-8000-000000000000")
    assert unknown.returncode == 1 and "no task" in one_line(unknown)
    down = run({**env, "REELSERVE_BASE_URL": f"http://127.0.0.1:{closed_port()}"}, "credits")
    assert down.returncode == 1 and "failed" in one_line(down)


def test_a_wait_that_times_out_exits_124(env: dict[str, str], tmp_path: Path) -> None:
    slow = run(
        env,
        "generate",
        "long",
        "--duration",
        "10",
        "--wait",
        "--timeout",
        "0.2",
        "--out",
        str(tmp_path / "never.mp4"),
    )
    assert slow.returncode == 124, slow.stderr
    assert "still" in slow.stderr and not (tmp_path / "never.mp4").exists()


def run_in_pty(env: dict[str, str], *args: str) -> tuple[int, str]:
    """Run the command with a pseudo-terminal as stdin/stdout/stderr; its exit code and
    everything it wrote to the terminal."""
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [*CLI, *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**env, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"},
        close_fds=True,
    )
    os.close(slave)
    output = b""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
        elif proc.poll() is not None:
            break
    os.close(master)
    return proc.wait(timeout=30), output.decode("utf-8", "replace")


def test_wait_renders_a_live_progress_bar_in_a_terminal(
    env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "live.mp4"
    code, screen = run_in_pty(env, "generate", "Under a pty", "--wait", "--out", str(out))
    assert code == 0, screen
    frames = screen.split("\r\x1b[2K")  # rich redraws the line in place
    assert len(frames) >= 3, screen  # a live display: drawn, redrawn, finished
    assert "━" in screen and "\x1b[" in screen  # a coloured bar
    last = frames[-1]
    assert "success" in last and "100%" in last and "0:00:" in last  # state, progress, elapsed
    assert any(("queueing" in f or "generating" in f or "submitted" in f) for f in frames[:-1])
    assert geometry(out) == (1280, 720, 120)


def test_without_a_terminal_no_control_codes_reach_the_output(
    env: dict[str, str], tmp_path: Path
) -> None:
    done = run(env, "generate", "piped", "--wait", "--out", str(tmp_path / "p.mp4"))
    assert done.returncode == 0
    assert "\x1b[" not in done.stdout and "\x1b[" not in done.stderr
