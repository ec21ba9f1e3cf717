"""The engine child process: a kill mid-task fails that task only; an interrupt stops a run."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reelserve.engines.isolated import IsolatedEngine
from tests.engines.conftest import TinyWeights, tiny_settings
from tests.support import RunningServer, run_server

STEPS = 600
"""Enough denoising steps (about 1.5 s on a quiet 2-core machine, longer under load) for a
test to act mid-run."""


@pytest.fixture(scope="module")
def slow_server(
    tiny_weights: TinyWeights, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    # A 1.5 s lease: the heartbeat writes progress every 0.5 s.
    settings = tiny_settings(tiny_weights, ltx_steps=STEPS, max_attempts=3, lease_s=1.5)
    with run_server(tmp_path_factory.mktemp("isolation"), **settings) as running:
        # A first task loads the model and warms the server (its first task imports and
        # sets up for seconds, starving a test's polling thread while the steps run).
        assert outcome(running, submit(running, "warm-up"))["state"] == "success"
        yield running


def submit(server: RunningServer, prompt: str) -> str:
    body = {"prompt": prompt, "duration": 1, "resolution": "360p", "aspect_ratio": "1:1"}
    answer = server.client("alice").post(
        "/api/v1/jobs/createTask", json={"model": "synthetic/text-to-video", "input": body}
    )
    assert answer.json()["code"] == 200, answer.text
    return str(answer.json()["data"]["taskId"])


def outcome(server: RunningServer, task_id: str, timeout: float = 120) -> dict[str, Any]:
    client = server.client("alice")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = client.get("/api/v1/jobs/recordInfo", params={"taskId": task_id}).json()["data"]
        if record["state"] in ("success", "fail"):
            return dict(record)
        time.sleep(0.05)
    raise AssertionError(f"task {task_id} did not finish")


def running_engine(server: RunningServer, timeout: float = 60) -> IsolatedEngine:
    """The LTX engine once its child is past the first denoising step of a task."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        engine = server.app.state.worker.registry.loaded("ltx-video")
        if isinstance(engine, IsolatedEngine) and 0 < engine.stats.progress < 0.5:
            return engine
        time.sleep(0.01)
    raise AssertionError("the engine never got mid-task")


def test_killing_the_engine_child_mid_task_fails_that_task_and_the_next_one_succeeds(
    slow_server: RunningServer, tmp_path: Path
) -> None:
    victim = submit(slow_server, "a cat")
    engine = running_engine(slow_server)
    old_pid = engine.stats.pid
    assert old_pid is not None and old_pid != os.getpid()
    os.kill(old_pid, signal.SIGKILL)
    record = outcome(slow_server, victim)
    assert record["state"] == "fail", record
    assert record["failCode"] == "500"
    assert "killed by SIGKILL" in record["failMsg"], record
    assert "restarting" in record["failMsg"], record
    # The server keeps serving: the next task runs on a fresh child.
    after = outcome(slow_server, submit(slow_server, "a dog"))
    assert after["state"] == "success", after
    assert engine.stats.pid != old_pid
    assert engine.stats.starts == 2


def test_denoising_steps_drive_record_detail_progress_and_an_interrupt_stops_the_run(
    slow_server: RunningServer,
) -> None:
    client = slow_server.client("alice")
    body = {"prompt": "the sky", "duration": 5, "quality": "720p", "aspectRatio": "16:9"}
    task = client.post("/api/v1/runway/generate", json=body).json()["data"]["taskId"]
    seen: list[float] = []
    deadline = time.monotonic() + 60
    while not seen and time.monotonic() < deadline:
        data = client.get("/api/v1/runway/record-detail", params={"taskId": task}).json()["data"]
        assert data["state"] in ("queueing", "wait", "generating"), data
        if data["progress"] > 0:
            seen.append(data["progress"])
        time.sleep(0.02)
    # Mid-denoising: the steps so far, not the end of the run.
    assert seen and 0 < seen[0] < 0.9, seen
    engine = slow_server.app.state.worker.registry.loaded("ltx-video")
    assert isinstance(engine, IsolatedEngine)
    pid, runs = engine.stats.pid, engine.stats.runs
    engine.interrupt()
    record = slow_server.wait(client, task)
    assert record["state"] == "fail", record
    assert "interrupted" in record["failMsg"], record
    # Stopped early: no frames came back, the child lives on and serves the next task.
    assert engine.stats.runs == runs and engine.stats.pid == pid
    after = outcome(slow_server, submit(slow_server, "a car"))
    assert after["state"] == "success", after
    assert engine.stats.pid == pid
