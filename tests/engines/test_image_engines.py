"""The real image engine code (z-image, flux-kontext, flux, qwen-image) through server tasks.

One server for the module, on tiny checkpoints (tests/tiny_image_pipelines.py):
a market image model and 4o Image run Z-Image, Flux Kontext runs
FluxKontextPipeline (an edit of its inputImage, or text-to-image without one),
the Flux-2 market text-to-image models run `flux` on a FLUX.1 checkpoint
(FluxPipeline), the market's Qwen models and image edits (4o Image with
several filesUrl) run `qwen-image` (QwenImagePipeline, QwenImageEditPlusPipeline
with every image a reference). Each image is downloaded and decoded. FLUX.2 klein and the
child process being killed: test_image_engine_child.py; GPU settings:
test_image_gpu_settings.py.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from reelserve.engines.check import check_engine
from reelserve.engines.diffusers.weights import WeightsError
from reelserve.engines.isolated import IsolatedEngine
from reelserve.engines.registry import registry_for
from reelserve.settings import Settings
from tests.engines.conftest import ImageWeights, image_settings
from tests.kie_families import fetch, image_of, wait_4o, wait_flux
from tests.support import RunningServer, png_bytes, run_server

ROUTES = (
    "flux-kontext-*=flux-kontext;flux-2/*-text-to-image=flux;qwen*=qwen-image;"
    "text_to_image=z-image;image_to_image=qwen-image"
)


@pytest.fixture(scope="module")
def server(
    image_weights: ImageWeights, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    settings = image_settings(image_weights, routes=ROUTES)
    with run_server(tmp_path_factory.mktemp("img"), **settings) as running:
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


def test_a_flux_2_market_model_runs_flux_on_a_flux_1_checkpoint(server: RunningServer) -> None:
    before = runs(server, "flux")
    body = {"prompt": "a lighthouse", "aspect_ratio": "3:4", "resolution": "1K"}
    record = market_task(server, "flux-2/pro-text-to-image", input=body)
    assert record["state"] == "success", record
    urls = json.loads(record["resultJson"])["resultUrls"]
    assert len(urls) == 1
    picture = image_of(fetch(server.client(None), urls[0]))
    assert abs(picture.width / picture.height - 3 / 4) < 0.01, picture.size
    assert float(np.std(np.asarray(picture))) > 5
    flux = engine(server, "flux")
    assert flux.stats.runs == before + 1
    assert flux.stats.info["pipeline"] == "FluxPipeline"


def test_a_qwen_market_model_runs_qwen_image(server: RunningServer) -> None:
    before = runs(server, "qwen-image")
    body = {"prompt": "a sign that says open", "image_size": "landscape_16_9"}
    record = market_task(server, "qwen/text-to-image", input=body)
    assert record["state"] == "success", record
    urls = json.loads(record["resultJson"])["resultUrls"]
    picture = image_of(fetch(server.client(None), urls[0]))
    assert abs(picture.width / picture.height - 16 / 9) < 0.01, picture.size
    assert float(np.std(np.asarray(picture))) > 5
    qwen = engine(server, "qwen-image")
    assert qwen.stats.runs == before + 1
    assert qwen.stats.info["pipeline"] == "QwenImagePipeline"
    assert qwen.stats.info["edit_pipeline"] == "QwenImageEditPlusPipeline"


def test_a_4o_image_edit_with_two_references_runs_qwen_image_edit_plus(
    server: RunningServer,
) -> None:
    before = runs(server, "qwen-image")
    client = server.client("alice")
    files = [
        "data:image/png;base64," + base64.b64encode(png_bytes(w, h)).decode()
        for w, h in ((96, 64), (48, 80))
    ]
    body = {
        "prompt": "the cat of the first in the room of the second",
        "size": "2:3",
        "filesUrl": files,
        "nVariants": 2,
    }
    answer = client.post("/api/v1/gpt4o-image/generate", json=body).json()
    assert answer["code"] == 200, answer
    record = wait_4o(client, answer["data"]["taskId"])
    assert record["successFlag"] == 1, record
    urls = record["response"]["resultUrls"]
    assert len(urls) == 2
    pictures = [image_of(fetch(client, url)) for url in urls]
    assert all(p.size == (1024, 1536) for p in pictures)
    assert runs(server, "qwen-image") == before + 1  # one call for both variants


def kontext_text_to_image(server: RunningServer, prompt: str) -> dict[str, Any]:
    client = server.client("alice")
    answer = client.post("/api/v1/flux/kontext/generate", json={"prompt": prompt}).json()
    assert answer["code"] == 200, answer
    return wait_flux(client, answer["data"]["taskId"])


def test_each_image_engine_is_loaded_once_and_kept_resident(server: RunningServer) -> None:
    for prompt in ("a cat", "a dog"):
        square = {"prompt": prompt, "aspect_ratio": "1:1"}
        assert market_task(server, "z-image", input=square)["state"] == "success"
        flux = market_task(
            server, "flux-2/flex-text-to-image", input={**square, "resolution": "1K"}
        )
        assert flux["state"] == "success", flux
        assert kontext_text_to_image(server, prompt)["successFlag"] == 1
        qwen = market_task(server, "qwen2/text-to-image", input=square)
        assert qwen["state"] == "success", qwen
    for name in ("z-image", "flux-kontext", "flux", "qwen-image"):
        loaded = engine(server, name)
        assert loaded.stats.runs >= 2, name
        assert loaded.stats.starts == 1 and loaded.stats.info["loads"] == 1, name
        assert loaded.stats.pid not in (None, os.getpid())


def test_engines_check_runs_one_image_per_engine(server: RunningServer) -> None:
    for name in ("z-image", "flux-kontext", "flux", "qwen-image"):
        loaded = server.app.state.worker.registry.get(name)
        line = check_engine(loaded, name, 1)
        assert line.startswith(f"{name}: text_to_image, 1 image 32x32 (native size"), line


def test_bad_image_settings_are_start_up_errors_that_name_the_setting(
    image_weights: ImageWeights, tmp_path: Path
) -> None:
    def check(engine: str, **changes: Any) -> None:
        registry_for({}, Settings(**image_settings(image_weights, **changes))).check(engine)

    with pytest.raises(WeightsError, match="REELSERVE_ZIMAGE_MODEL_DIR"):
        check("z-image", zimage_model_dir=None)
    with pytest.raises(WeightsError, match="REELSERVE_FLUX_MODEL_DIR"):
        check("flux", flux_model_dir=tmp_path / "nowhere")
    # Another model's directory: the setting and both class names are in the message.
    with pytest.raises(
        WeightsError,
        match=r"REELSERVE_ZIMAGE_MODEL_DIR=.*holds FluxPipeline.*"
        "needs ZImagePipeline",
    ):
        check("z-image", zimage_model_dir=image_weights.flux)
    with pytest.raises(WeightsError, match="needs FluxPipeline or Flux2KleinPipeline"):
        check("flux", flux_model_dir=image_weights.zimage)
    broken = tmp_path / "kontext"
    broken.mkdir()
    for item in image_weights.kontext.iterdir():
        (broken / item.name).symlink_to(item)
    (broken / "text_encoder_2").unlink()
    with pytest.raises(WeightsError, match="'text_encoder_2' is missing"):
        check("flux-kontext", flux_kontext_model_dir=broken)
    # A FLUX.1 index without its T5 encoder.
    index = json.loads((image_weights.flux / "model_index.json").read_text())
    flux1 = tmp_path / "flux1"
    flux1.mkdir()
    for item in image_weights.flux.iterdir():
        if item.name not in ("model_index.json", "text_encoder_2", "tokenizer_2"):
            (flux1 / item.name).symlink_to(item)
    index.pop("text_encoder_2"), index.pop("tokenizer_2")
    (flux1 / "model_index.json").write_text(json.dumps(index))
    with pytest.raises(WeightsError, match="lists no text_encoder_2, tokenizer_2"):
        check("flux", flux_model_dir=flux1)
    with pytest.raises(
        WeightsError, match=r"QWEN_IMAGE_MODEL_DIR.*or REELSERVE_QWEN_IMAGE_EDIT_MODEL_DIR"
    ):
        check("qwen-image", qwen_image_model_dir=None, qwen_image_edit_model_dir=None)
    with pytest.raises(
        WeightsError,
        match=r"REELSERVE_QWEN_IMAGE_EDIT_MODEL_DIR=.*holds "
        r"QwenImagePipeline.*needs QwenImageEditPlusPipeline",
    ):
        check("qwen-image", qwen_image_edit_model_dir=image_weights.qwen)
    # Without the edit checkpoint, qwen-image does text_to_image only.
    with pytest.raises(ValueError, match="'qwen-image' image_to_image, which it cannot do"):
        check("qwen-image", qwen_image_edit_model_dir=None, routes="image_to_image=qwen-image")
    check("qwen-image", qwen_image_model_dir=None, routes="image_to_image=qwen-image")
    with pytest.raises(ValueError, match="'z-image' image_to_image, which it cannot do"):
        check("z-image", routes="image_to_image=z-image")
    with pytest.raises(ValueError, match="flux_steps"):
        Settings(**image_settings(image_weights, flux_steps=0))
