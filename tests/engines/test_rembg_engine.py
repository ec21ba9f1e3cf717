"""The `rembg` engine: preflight, the alpha from the model, settings, and real server tasks.

The model is a tiny ONNX graph built with onnx.helper (tests/tiny_matting.py): a 1x1 convolution
that outputs the (normalised) red channel of rembg's (1, 3, 320, 320) input as
the (1, 1, 320, 320) mask. rembg min-max normalises the mask, so the alpha of
a 320x320 image whose red channel spans 0..255 is its red channel (to a unit
of rounding): the tests can tell the alpha really comes from the model.
"""

from __future__ import annotations

import io
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from reelserve.engines.base import Capability, EngineError, EngineRequest, ImageOutput
from reelserve.engines.diffusers.weights import WeightsError
from reelserve.engines.isolated import EngineInterrupted
from reelserve.engines.matting.config import RembgConfig, rembg_config
from reelserve.engines.matting.engine import RembgEngine
from reelserve.engines.matting.factory import matting_factories
from reelserve.engines.matting.runner import RembgRunner, cut_out, new_session
from reelserve.settings import Settings
from tests.support import RunningServer, StaticHttpServer, run_server_with
from tests.tiny_matting import SIDE, red_channel_model


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return red_channel_model(tmp_path_factory.mktemp("rembg") / "red.onnx")


@pytest.fixture(scope="module")
def engine(model: Path) -> Iterator[RembgEngine]:
    made = RembgEngine(RembgConfig(model=model))
    made.setup()
    yield made
    made.close()


def red_ramp(width: int = SIDE, height: int = SIDE) -> np.ndarray:
    """Red 0..255 along x (so the mask's min-max spans it all), green/blue constant."""
    image = np.zeros((height, width, 3), np.uint8)
    image[:, :, 0] = np.round(np.linspace(0, 255, width))[None, :]
    image[:, :, 1] = 90
    image[:, :, 2] = 200
    return image


def request_for(*images: np.ndarray) -> EngineRequest:
    return EngineRequest(operation=Capability.REMOVE_BACKGROUND, prompt="", images=list(images))


def preflight(**settings: Any) -> None:
    matting_factories(Settings(**settings))["rembg"].preflight()  # type: ignore[attr-defined]


# -- preflight ------------------------------------------------------------------------------


def test_preflight_names_the_setting_and_what_is_missing(model: Path, tmp_path: Path) -> None:
    preflight(rembg_model=model)
    with pytest.raises(WeightsError, match="needs REELSERVE_REMBG_MODEL: the path of an ONNX"):
        preflight()
    with pytest.raises(WeightsError, match=r"REELSERVE_REMBG_MODEL=.*nowhere\.onnx is not a file"):
        preflight(rembg_model=tmp_path / "nowhere.onnx")
    text = tmp_path / "model.txt"
    text.write_text("x")
    with pytest.raises(WeightsError, match=r"is not an \.onnx file"):
        preflight(rembg_model=text)
    with pytest.raises(WeightsError, match="REELSERVE_REMBG_SESSION='sam' is not a rembg session"):
        preflight(rembg_model=model, rembg_session="sam")
    with pytest.raises(WeightsError, match=r"finds its model as birefnet-general.onnx.*red.onnx"):
        preflight(rembg_model=model, rembg_session="birefnet-general")


def test_preflight_refuses_cuda_without_the_provider(model: Path) -> None:
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("this onnxruntime has CUDA")
    with pytest.raises(WeightsError, match=r"REELSERVE_REMBG_DEVICE='cuda' needs .*CUDAExecution"):
        preflight(rembg_model=model, rembg_device="cuda")


def test_preflight_names_a_missing_package(model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import reelserve.engines.matting.weights as weights

    monkeypatch.setattr(weights, "installed", lambda module: module != "rembg")
    with pytest.raises(WeightsError, match=r"needs rembg 2\.0, which is not installed: pip inst"):
        preflight(rembg_model=model)


# -- the cut-out, in this process --------------------------------------------------------------


@pytest.fixture(scope="module")
def session(model: Path) -> Any:
    return new_session(RembgConfig(model=model))


def test_the_alpha_is_the_models_mask(session: Any) -> None:
    image = red_ramp()
    out = cut_out(session, image, alpha_matting=False)
    assert out.shape == (SIDE, SIDE, 4) and out.dtype == np.uint8
    assert np.array_equal(out[:, :, :3], image)  # the input's colours, untouched
    assert np.abs(out[:, :, 3].astype(int) - image[:, :, 0].astype(int)).max() <= 1
    # Another red channel, another alpha: the mask follows the model, not the picture.
    flipped = image.copy()
    flipped[:, :, 0] = image[:, ::-1, 0]
    out = cut_out(session, flipped, alpha_matting=False)
    assert np.abs(out[:, :, 3].astype(int) - flipped[:, :, 0].astype(int)).max() <= 1


def test_an_rgba_input_keeps_the_lower_of_its_alpha_and_the_mask(session: Any) -> None:
    image = np.dstack([red_ramp(), np.full((SIDE, SIDE), 255, np.uint8)])
    image[: SIDE // 2, :, 3] = 100
    out = cut_out(session, image, alpha_matting=False)
    mask = image[:, :, 0].astype(int)
    want = np.minimum(mask, image[:, :, 3])
    assert np.abs(out[:, :, 3].astype(int) - want).max() <= 1
    assert out[: SIDE // 2, :, 3].max() <= 100 and out[SIDE // 2 :, -1, 3].min() >= 254


def test_alpha_matting_refines_the_mask(session: Any) -> None:
    image = np.zeros((SIDE, SIDE, 3), np.uint8)
    image[:, SIDE // 2 :, 0] = 255  # a hard edge: the right half is the subject
    image[:, :, 1] = 60
    plain = cut_out(session, image, alpha_matting=False)
    matted = cut_out(session, image, alpha_matting=True)
    assert matted.shape == (SIDE, SIDE, 4)
    assert matted[:, : SIDE // 4, 3].max() <= 5 and matted[:, -SIDE // 4 :, 3].min() >= 250
    assert plain[:, : SIDE // 4, 3].max() <= 5


# -- settings on the loaded session ---------------------------------------------------------


def test_every_setting_reaches_the_loaded_session(model: Path, tmp_path: Path) -> None:
    config = rembg_config(
        Settings(rembg_model=model, rembg_threads=2, rembg_alpha_matting=True, rembg_device="cpu")
    )
    assert (config.session, config.device, config.threads, config.alpha_matting) == (
        "u2net_custom",
        "cpu",
        2,
        True,
    )
    runner = RembgRunner(config)
    info = runner.load()
    inner = runner.session.inner_session
    assert type(runner.session).__name__ == "U2netCustomSession"
    assert inner.get_providers() == ["CPUExecutionProvider"] == info["providers"]
    assert inner.get_session_options().intra_op_num_threads == 2 == info["threads"]
    assert info["alpha_matting"] is True and info["dtype"] == "float"
    default = RembgRunner(rembg_config(Settings(rembg_model=model)))
    assert default.load()["threads"] == 0
    # A named session finds `<name>.onnx` beside it, offline (no download, no checksum).
    named = red_channel_model(tmp_path / "u2net.onnx")
    runner = RembgRunner(rembg_config(Settings(rembg_model=named, rembg_session="u2net")))
    assert runner.load()["pipeline"] == "U2netSession"
    out = cut_out(runner.session, red_ramp(), alpha_matting=False)
    assert np.abs(out[:, :, 3].astype(int) - red_ramp()[:, :, 0].astype(int)).max() <= 1


# -- the engine, in its child ------------------------------------------------------------------


def test_the_engine_returns_rgba_at_each_inputs_size_with_progress(engine: RembgEngine) -> None:
    small = red_ramp(64, 40)
    grey = np.full((30, 50), 128, np.uint8)
    seen: list[float] = []
    output = engine.run(request_for(red_ramp(), small, grey), seen.append)
    assert isinstance(output, ImageOutput)
    assert [i.shape for i in output.images] == [(SIDE, SIDE, 4), (40, 64, 4), (30, 50, 4)]
    first, resized = output.images[0], output.images[1]
    assert np.abs(first[:, :, 3].astype(int) - red_ramp()[:, :, 0].astype(int)).max() <= 1
    # Resized to 320 and back (Lanczos): dark on the left, opaque on the right.
    assert resized[:, :8, 3].max() < 40 and resized[:, -8:, 3].min() > 215
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)
    assert any(abs(f - 1 / 3) < 1e-6 for f in seen)


def test_interrupt_stops_between_images_and_the_child_lives_on(engine: RembgEngine) -> None:
    seen: list[float] = []

    def stop(fraction: float) -> None:
        seen.append(fraction)
        engine.interrupt()

    starts = engine.stats.starts
    with pytest.raises(EngineInterrupted):
        engine.run(request_for(*[red_ramp()] * 20), stop)
    assert seen and seen[-1] < 1
    output = engine.run(request_for(red_ramp(32, 32)), lambda _: None)
    assert isinstance(output, ImageOutput) and engine.stats.starts == starts


def test_a_child_killed_mid_task_fails_that_task_and_the_next_succeeds(model: Path) -> None:
    made = RembgEngine(RembgConfig(model=model))
    try:
        made.setup()
        victim = made.stats.pid
        assert victim is not None

        def kill(fraction: float) -> None:
            if made.stats.pid == victim:
                os.kill(victim, signal.SIGKILL)

        with pytest.raises(EngineError, match=r"killed by SIGKILL.*the task was lost"):
            made.run(request_for(*[red_ramp()] * 30), kill)
        output = made.run(request_for(red_ramp()), lambda _: None)
        assert isinstance(output, ImageOutput) and output.images[0].shape == (SIDE, SIDE, 4)
        assert made.stats.starts == 2
    finally:
        made.close()


def test_a_child_that_cannot_load_says_why(model: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    made = RembgEngine(RembgConfig(model=broken))
    try:
        with pytest.raises(EngineError, match="engine rembg could not load its model"):
            made.setup()
    finally:
        made.close()


# -- real server tasks ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def static() -> Iterator[StaticHttpServer]:
    server = StaticHttpServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def rembg_server(model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with run_server_with(
        tmp_path_factory.mktemp("rembg-server"),
        {"alice": None},
        worker_poll_s=0.1,
        routes="remove_background=rembg;*=synthetic",
        rembg_model=model,
    ) as running:
        yield running


def png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def market_task(client: httpx.Client, model: str, values: dict[str, Any]) -> dict[str, Any]:
    answer = client.post("/api/v1/jobs/createTask", json={"model": model, "input": values})
    body = answer.json()
    assert body["code"] == 200, body
    task_id = body["data"]["taskId"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        record = client.get("/api/v1/jobs/recordInfo", params={"taskId": task_id}).json()
        data = dict(record["data"])
        if data["state"] in ("success", "fail"):
            return data
        time.sleep(0.1)
    raise AssertionError(f"task {task_id} did not finish")


def result_image(client: httpx.Client, record: dict[str, Any]) -> Image.Image:
    assert record["state"] == "success", record
    urls = json.loads(record["resultJson"])["resultUrls"]
    assert len(urls) == 1, urls
    response = client.get(urls[0], follow_redirects=True)
    assert response.status_code == 200
    return Image.open(io.BytesIO(response.content))


def test_market_remove_background_tasks_run_on_rembg_loaded_once(
    rembg_server: RunningServer, static: StaticHttpServer
) -> None:
    client = rembg_server.client("alice")
    # The server composites a transparent input over white before any engine sees it
    # (media/decode.py), so an RGBA PNG's alpha does not reach the engine: its clear
    # top rows are white, red 255, and the model's mask makes them opaque.
    rgba = np.dstack([red_ramp(), np.full((SIDE, SIDE), 255, np.uint8)])
    rgba[:40, :, 3] = 0
    inputs = [
        ("/a.png", red_ramp(), None),
        ("/b.png", rgba, 255),
        ("/c.png", red_ramp(96, 60), None),
    ]
    for path, image, top_alpha in inputs:
        url = static.add(path, png(image), "image/png")
        record = market_task(client, "recraft/remove-background", {"image": url})
        result = result_image(client, record)
        assert result.format == "PNG" and result.mode == "RGBA"
        assert result.size == (image.shape[1], image.shape[0])
        pixels = np.asarray(result)
        alpha = pixels[:, :, 3].astype(int)
        if image.shape[:2] == (SIDE, SIDE):
            want = image[:, :, 0].astype(int)
            assert np.abs(alpha[40:] - want[40:]).max() <= 1
            assert np.array_equal(pixels[40:, :, :3], image[40:, :, :3])
        else:
            assert alpha[:, :8].max() < 40 and alpha[:, -8:].min() > 215
        if top_alpha is not None:
            assert alpha[:40].min() == top_alpha
    engine = rembg_server.app.state.worker.registry.loaded("rembg")
    assert isinstance(engine, RembgEngine)
    assert engine.stats.starts == 1 and engine.stats.runs == 3  # loaded once for all three


def test_engines_check_removes_a_background(model: Path, tmp_path: Path) -> None:
    import re

    from typer.testing import CliRunner

    from reelserve.cli import app

    env = {
        "REELSERVE_DATA_DIR": str(tmp_path),
        "REELSERVE_ROUTES": "remove_background=rembg",
        "REELSERVE_REMBG_MODEL": str(model),
    }
    result = CliRunner().invoke(app, ["engines", "check"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert re.fullmatch(
        r"rembg: loaded in \d+\.\d\d s \(U2netCustomSession, cpu, float\)", lines[0]
    ), lines
    assert re.fullmatch(
        r"rembg: remove_background, 64x48 to 64x48 RGBA in \d+\.\d\d s \(pipeline \d+\.\d\d s\)",
        lines[1],
    ), lines


def test_engines_check_names_a_missing_rembg_model(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from reelserve.cli import app

    env = {"REELSERVE_DATA_DIR": str(tmp_path), "REELSERVE_ROUTES": "remove_background=rembg"}
    result = CliRunner().invoke(app, ["engines", "check"], env=env)
    assert result.exit_code == 2
    assert "needs REELSERVE_REMBG_MODEL" in result.output
