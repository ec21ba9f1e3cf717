"""The real z-image and flux-kontext engine code through real server tasks, on tiny checkpoints.

One server for the module, routed `flux-kontext-*=flux-kontext;
text_to_image=z-image;image_to_image=flux-kontext`: a market image model and
4o Image run Z-Image, Flux Kontext runs FluxKontextPipeline (an edit of its
inputImage, or text-to-image without one). Each image is downloaded and decoded.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from reelserve.engines.base import Capability, EngineError, EngineRequest
from reelserve.engines.check import check_engine
from reelserve.engines.diffusers.image_factory import flux_kontext_config, zimage_config
from reelserve.engines.diffusers.weights import WeightsError
from reelserve.engines.isolated import EngineInterrupted, IsolatedEngine
from reelserve.engines.registry import registry_for
from reelserve.settings import Settings
from tests.kie_families import fetch, image_of, wait_4o, wait_flux
from tests.support import RunningServer, png_bytes, run_server
from tests.tiny_image_pipelines import build_flux_kontext, build_zimage

ROUTES = "flux-kontext-*=flux-kontext;text_to_image=z-image;image_to_image=flux-kontext"


@dataclasses.dataclass(frozen=True)
class Weights:
    zimage: Path
    kontext: Path


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Weights:
    root = tmp_path_factory.mktemp("image-weights")
    return Weights(build_zimage(root / "z-image"), build_flux_kontext(root / "kontext"))


def image_settings(weights: Weights, **extra: Any) -> dict[str, Any]:
    """32×32 native, 2 steps, on CPU."""
    values: dict[str, Any] = {
        "routes": ROUTES,
        "zimage_model_dir": weights.zimage,
        "zimage_width": 32,
        "zimage_height": 32,
        "zimage_steps": 2,
        "flux_kontext_model_dir": weights.kontext,
        "flux_kontext_width": 32,
        "flux_kontext_height": 32,
        "flux_kontext_steps": 2,
        "diffusers_device": "cpu",
    }
    values.update(extra)
    return values


@pytest.fixture(scope="module")
def server(weights: Weights, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with run_server(tmp_path_factory.mktemp("img"), **image_settings(weights)) as running:
        yield running


def engine(server: RunningServer, name: str) -> IsolatedEngine:
    """The server's instance of `name`; only after a task used it (the first task loads it)."""
    loaded = server.app.state.worker.registry.loaded(name)
    assert isinstance(loaded, IsolatedEngine), loaded
    return loaded


def market_task(server: RunningServer, model: str, **body: Any) -> dict[str, Any]:
    """A market (jobs/createTask) task, polled on recordInfo until it ends."""
    client = server.client("alice")
    answer = client.post("/api/v1/jobs/createTask", json={"model": model, **body}).json()
    assert answer["code"] == 200, answer
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        data = client.get("/api/v1/jobs/recordInfo", params={"taskId": answer["data"]["taskId"]})
        record = data.json()["data"]
        if record["state"] in ("success", "fail"):
            return dict(record)
        assert record["state"] in ("waiting", "queuing", "generating"), record
        time.sleep(0.05)
    raise AssertionError("market task did not finish")


def runs(server: RunningServer, name: str) -> int:
    """Pipeline calls so far by the server's `name` (0 before its first task loaded it)."""
    loaded = server.app.state.worker.registry.loaded(name)
    return loaded.stats.runs if isinstance(loaded, IsolatedEngine) else 0


def test_a_market_image_model_runs_z_image_at_its_aspect_ratio(server: RunningServer) -> None:
    before = runs(server, "z-image")
    record = market_task(server, "z-image", input={"prompt": "a red car", "aspect_ratio": "16:9"})
    assert record["state"] == "success", record
    urls = json.loads(record["resultJson"])["resultUrls"]
    assert len(urls) == 1
    picture = image_of(fetch(server.client(None), urls[0]))
    assert abs(picture.width / picture.height - 16 / 9) < 0.01, picture.size
    # Random weights give noise, not a flat procedural picture.
    assert float(np.std(np.asarray(picture))) > 5
    z = engine(server, "z-image")
    assert z.stats.runs == before + 1
    assert z.stats.info["pipeline"] == "ZImagePipeline"


def test_4o_image_with_two_variants_runs_z_image_once_for_two_distinct_pngs(
    server: RunningServer,
) -> None:
    before = runs(server, "z-image")
    client = server.client("alice")
    body = {"prompt": "two cats", "size": "3:2", "nVariants": 2}
    answer = client.post("/api/v1/gpt4o-image/generate", json=body).json()
    assert answer["code"] == 200, answer
    record = wait_4o(client, answer["data"]["taskId"])
    assert record["successFlag"] == 1, record
    urls = record["response"]["resultUrls"]
    assert len(urls) == 2
    pictures = [image_of(fetch(client, url)) for url in urls]
    assert all(p.size == (1536, 1024) and p.format == "PNG" for p in pictures)
    assert not np.array_equal(np.asarray(pictures[0]), np.asarray(pictures[1]))
    assert runs(server, "z-image") == before + 1  # one pipeline call, num_images_per_prompt=2


def test_flux_kontext_edits_its_input_image_and_keeps_its_ratio(server: RunningServer) -> None:
    before = runs(server, "flux-kontext")
    client = server.client("alice")
    image = "data:image/png;base64," + base64.b64encode(png_bytes(96, 64)).decode()
    body = {"prompt": "add a hat", "inputImage": image, "model": "flux-kontext-pro"}
    answer = client.post("/api/v1/flux/kontext/generate", json=body).json()
    assert answer["code"] == 200, answer
    record = wait_flux(client, answer["data"]["taskId"])
    assert record["successFlag"] == 1, record
    picture = image_of(fetch(client, record["response"]["resultImageUrl"]))
    assert picture.size == (1024, 683) and picture.format == "JPEG"
    kontext = engine(server, "flux-kontext")
    assert kontext.stats.runs == before + 1
    assert kontext.stats.info["pipeline"] == "FluxKontextPipeline"


def test_flux_kontext_without_an_image_is_text_to_image_on_the_same_engine(
    server: RunningServer,
) -> None:
    before = runs(server, "flux-kontext")
    client = server.client("alice")
    body = {"prompt": "a harbour", "aspectRatio": "9:16", "outputFormat": "png"}
    answer = client.post("/api/v1/flux/kontext/generate", json=body).json()
    record = wait_flux(client, answer["data"]["taskId"])
    assert record["successFlag"] == 1, record
    picture = image_of(fetch(client, record["response"]["resultImageUrl"]))
    assert picture.format == "PNG" and max(picture.size) == 1024
    assert abs(picture.width / picture.height - 9 / 16) < 0.01
    assert runs(server, "flux-kontext") == before + 1


def test_each_image_engine_is_loaded_once_and_kept_resident(server: RunningServer) -> None:
    for name in ("z-image", "flux-kontext"):
        loaded = engine(server, name)
        assert loaded.stats.starts == 1 and loaded.stats.info["loads"] == 1
        assert loaded.stats.pid != os.getpid()
    z = engine(server, "z-image")
    pid = z.stats.pid
    for prompt in ("a cat", "a dog"):
        record = market_task(server, "z-image", input={"prompt": prompt, "aspect_ratio": "1:1"})
        assert record["state"] == "success", record
    assert z.stats.pid == pid and z.stats.starts == 1


def test_engines_check_runs_one_image_per_engine(server: RunningServer) -> None:
    for name, operation in (("z-image", "text_to_image"), ("flux-kontext", "text_to_image")):
        line = check_engine(engine(server, name), name, 1)
        assert line.startswith(f"{name}: {operation}, 1 image 32x32 (native size"), line


def test_the_preflight_names_the_missing_directory_and_file(
    weights: Weights, tmp_path: Path
) -> None:
    settings = Settings(**image_settings(weights, zimage_model_dir=None))
    with pytest.raises(WeightsError, match="REELSERVE_ZIMAGE_MODEL_DIR"):
        registry_for({}, settings).check("z-image")
    broken = tmp_path / "kontext"
    broken.mkdir()
    for item in weights.kontext.iterdir():
        (broken / item.name).symlink_to(item)
    (broken / "text_encoder_2").unlink()
    settings = Settings(**image_settings(weights, flux_kontext_model_dir=broken))
    with pytest.raises(WeightsError, match="'text_encoder_2' is missing"):
        registry_for({}, settings).check("flux-kontext")
    settings = Settings(**image_settings(weights, routes="image_to_image=z-image"))
    with pytest.raises(ValueError, match="cannot do"):
        registry_for({}, settings).check("z-image")


@pytest.mark.parametrize("name", ["z-image", "flux-kontext"])
def test_every_gpu_setting_is_applied_to_the_pipeline(weights: Weights, name: str) -> None:
    import diffusers
    import torch

    from reelserve.engines.diffusers.loading import load_pipeline

    settings = Settings(
        **image_settings(
            weights,
            diffusers_dtype="bfloat16",
            diffusers_compile=True,
            diffusers_vae_tiling=True,
            diffusers_offload="model",
        )
    )
    config = zimage_config(settings) if name == "z-image" else flux_kontext_config(settings)
    assert (config.dtype, config.compile, config.vae_tiling, config.offload) == (
        "bfloat16",
        True,
        True,
        "model",
    )
    cls = diffusers.ZImagePipeline if name == "z-image" else diffusers.FluxKontextPipeline
    pipe = load_pipeline(cls, config)
    assert pipe.transformer.dtype == torch.bfloat16 and pipe.text_encoder.dtype == torch.bfloat16
    assert pipe.vae.use_tiling is True
    for part in ("transformer", "vae", "text_encoder"):
        assert hasattr(getattr(pipe, part), "_hf_hook"), part
    repeated = pipe.transformer._repeated_blocks
    blocks = [m for m in pipe.transformer.modules() if type(m).__name__ in repeated]
    assert blocks and all(b._compiled_call_impl is not None for b in blocks)
    plain = load_pipeline(
        cls,
        dataclasses.replace(config, dtype="auto", compile=False, vae_tiling=False, offload="none"),
    )
    assert plain.transformer.dtype == torch.float32 and plain.vae.use_tiling is False
    assert not hasattr(plain.transformer, "_hf_hook")


def test_a_killed_child_fails_its_task_and_the_restarted_child_runs_until_interrupted(
    weights: Weights,
) -> None:
    settings = Settings(**image_settings(weights, zimage_steps=400))
    registry = registry_for({}, settings)
    try:
        z = registry.get("z-image")
        assert isinstance(z, IsolatedEngine)
        request = EngineRequest(
            operation=Capability.TEXT_TO_IMAGE, prompt="a cat", width=64, height=64, seed=1
        )

        def mid_run(action: Any) -> BaseException | None:
            outcome: list[BaseException | None] = []

            def target() -> None:
                try:
                    z.run(request, lambda _: None)
                    outcome.append(None)
                except BaseException as exc:
                    outcome.append(exc)

            thread = threading.Thread(target=target)
            thread.start()
            deadline = time.monotonic() + 60
            while not 0 < z.stats.progress < 0.5 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert 0 < z.stats.progress < 0.5, "never got mid-run"
            action()
            thread.join(60)
            return outcome[0]

        old = z.stats.pid
        assert old is not None
        killed = mid_run(lambda: os.kill(old, signal.SIGKILL))
        assert isinstance(killed, EngineError) and "killed by SIGKILL" in str(killed)
        assert "restarting" in str(killed)
        z.stats.progress = 0.0
        stopped = mid_run(z.interrupt)
        assert isinstance(stopped, EngineInterrupted)
        assert z.stats.pid != old and z.stats.starts == 2
    finally:
        registry.close()
