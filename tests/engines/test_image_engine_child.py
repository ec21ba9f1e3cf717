"""FLUX.2 klein through server tasks, and the image engines' child killed mid-task.

One server for the module: 4o Image (text_to_image) runs `flux` on a tiny
FLUX.2 klein checkpoint (Flux2KleinPipeline) with enough steps (a second or
two here) for a test to act mid-run, and with VAE tiling and slicing on, which
the child reports back (bfloat16 and offload are slower on a CPU; they are
checked on the pipeline object in test_image_gpu_settings.py). z-image,
flux-kontext and flux share the child-side code (image_runner.py), so one
kill test covers the three.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from reelserve.engines.isolated import IsolatedEngine
from tests.engines.conftest import ImageWeights, image_settings
from tests.kie_families import fetch, image_of, wait_4o
from tests.support import RunningServer, run_server

STEPS = 20
"""Denoising steps of the tiny klein at 32×32: under a second per image when the CPU is idle."""


@pytest.fixture(scope="module")
def klein_server(
    image_weights: ImageWeights, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    settings = image_settings(
        image_weights,
        routes="text_to_image=flux",
        flux_model_dir=image_weights.klein,
        flux_steps=STEPS,
        flux_max_sequence_length=32,
        diffusers_vae_tiling=True,
        diffusers_vae_slicing=True,
        max_attempts=3,
        lease_s=1.5,
    )
    with run_server(tmp_path_factory.mktemp("klein"), **settings) as running:
        yield running


def submit(server: RunningServer, prompt: str, **extra: Any) -> str:
    body = {"prompt": prompt, "size": "2:3", **extra}
    answer = server.client("alice").post("/api/v1/gpt4o-image/generate", json=body).json()
    assert answer["code"] == 200, answer
    return str(answer["data"]["taskId"])


def outcome(server: RunningServer, task_id: str) -> dict[str, Any]:
    return wait_4o(server.client("alice"), task_id, timeout=120)


def flux(server: RunningServer) -> IsolatedEngine | None:
    loaded = server.app.state.worker.registry.loaded("flux")
    return loaded if isinstance(loaded, IsolatedEngine) else None


def test_4o_image_runs_flux_2_klein_once_for_two_variants(klein_server: RunningServer) -> None:
    record = outcome(klein_server, submit(klein_server, "two owls", nVariants=2))
    assert record["successFlag"] == 1, record
    urls = record["response"]["resultUrls"]
    assert len(urls) == 2
    pictures = [image_of(fetch(klein_server.client(None), url)) for url in urls]
    assert all(p.size == (1024, 1536) and p.format == "PNG" for p in pictures)
    assert float(np.std(np.asarray(pictures[0]))) > 5
    assert not np.array_equal(np.asarray(pictures[0]), np.asarray(pictures[1]))
    engine = flux(klein_server)
    assert engine is not None
    info = engine.stats.info
    assert (info["pipeline"], info["dtype"], info["device"]) == (
        "Flux2KleinPipeline",
        "float32",
        "cpu",
    )
    assert info["vae_tiling"] is True and info["vae_slicing"] is True
    assert info["offloaded"] is False and info["compiled_blocks"] == 0
    assert engine.stats.runs == 1  # one call, num_images_per_prompt=2


def mid_run(server: RunningServer) -> IsolatedEngine:
    """The flux engine once its child is past the first denoising step of a task."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        engine = flux(server)
        if engine is not None and 0 < engine.stats.progress < 0.5:
            return engine
        time.sleep(0.01)
    raise AssertionError("the engine never got mid-task")


def test_cancelling_a_running_image_task_stops_it_and_keeps_the_child(
    klein_server: RunningServer,
) -> None:
    task = submit(klein_server, "a slow owl")
    engine = mid_run(klein_server)
    pid, starts = engine.stats.pid, engine.stats.starts
    client = klein_server.client("alice")
    answer = client.post("/api/v1/tasks/cancel", json={"taskId": task}).json()
    assert answer["code"] == 200 and answer["data"]["cancelling"], answer
    record = outcome(klein_server, task)
    assert record["successFlag"] != 1 and "canceled" in record["errorMessage"], record
    status = client.get("/api/v1/tasks/detail", params={"taskId": task}).json()["data"]
    assert status["status"] == "canceled", status
    # The interrupt stopped the run at a step, not the engine: the same child lives on,
    # and the next task is not handed the cancelled run's last message.
    engine.stats.progress = 0.0
    after = outcome(klein_server, submit(klein_server, "a quick owl"))
    assert after["successFlag"] == 1, after
    assert engine.stats.pid == pid and engine.stats.starts == starts


def test_killing_the_image_child_mid_task_fails_that_task_and_the_next_one_succeeds(
    klein_server: RunningServer,
) -> None:
    previous = flux(klein_server)
    if previous is not None:
        previous.stats.progress = 0.0  # the last run's; mid_run waits for this one's
    victim = submit(klein_server, "a cat")
    engine = mid_run(klein_server)
    old_pid, starts = engine.stats.pid, engine.stats.starts
    assert old_pid is not None and old_pid != os.getpid()
    os.kill(old_pid, signal.SIGKILL)
    record = outcome(klein_server, victim)
    assert record["successFlag"] != 1, record
    assert "killed by SIGKILL" in record["errorMessage"], record
    assert "restarting" in record["errorMessage"], record
    # The server keeps serving: the next task runs on a fresh child.
    after = outcome(klein_server, submit(klein_server, "a dog"))
    assert after["successFlag"] == 1, after
    assert image_of(fetch(klein_server.client(None), after["response"]["resultUrls"][0])).size == (
        1024,
        1536,
    )
    assert engine.stats.pid != old_pid and engine.stats.starts == starts + 1
