"""The `swin2sr` engine: preflight, exact sizes, alpha, tiles, and real tasks through a server.

The model is a tiny random-weight Swin2SR of the real transformers class,
saved as the Hub's `caidas/swin2SR-*` folders are (tests/tiny_swin2sr.py), so
outputs are checked for size, frame count and alpha, not for quality.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest
from PIL import Image

from reelserve.engines.base import Capability, EngineError, EngineRequest, ImageOutput
from reelserve.engines.diffusers.weights import WeightsError
from reelserve.engines.upscale.config import Swin2SRConfig, swin2sr_config
from reelserve.engines.upscale.factory import upscale_factories
from reelserve.engines.upscale.runner import Swin2SRRunner, load_model, passes, tiles
from reelserve.engines.upscale.swin2sr import Swin2SREngine
from reelserve.media.encode import Mp4Writer
from reelserve.settings import Settings
from tests.support import RunningServer, StaticHttpServer, png_bytes, run_server_with
from tests.tiny_swin2sr import build_swin2sr


@pytest.fixture(scope="module")
def x2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_swin2sr(tmp_path_factory.mktemp("swin2sr") / "x2", upscale=2)


@pytest.fixture(scope="module")
def x4_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_swin2sr(tmp_path_factory.mktemp("swin2sr") / "x4", upscale=4)


@pytest.fixture(scope="module")
def engine(x2_dir: Path) -> Iterator[Swin2SREngine]:
    # 16-px tiles with 4 px of overlap: a 24x24 image is cut into 2x2 tiles.
    made = Swin2SREngine(Swin2SRConfig(model_dir=x2_dir, device="cpu", tile=16, tile_overlap=4))
    made.setup()
    yield made
    made.close()


def noise(width: int, height: int, channels: int = 3, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).random((height, width, channels)) * 255).astype(np.uint8)


def upscale_request(image: np.ndarray, **params: Any) -> EngineRequest:
    return EngineRequest(
        operation=Capability.UPSCALE_IMAGE, prompt="", images=[image], params=params
    )


# -- preflight and the pure parts -------------------------------------------------------------


def test_preflight_names_a_missing_folder_or_file(tmp_path: Path, x2_dir: Path) -> None:
    def preflight(directory: Path | None) -> None:
        upscale_factories(Settings(swin2sr_model_dir=directory))["swin2sr"].preflight()  # type: ignore[attr-defined]

    preflight(x2_dir)
    with pytest.raises(WeightsError, match="needs REELSERVE_SWIN2SR_MODEL_DIR"):
        preflight(None)
    with pytest.raises(WeightsError, match="is not a directory"):
        preflight(tmp_path / "nowhere")
    for missing, says in [
        ("model.safetensors", "weights in .* are incomplete: no model.safetensors"),
        ("preprocessor_config.json", "has no preprocessor_config.json"),
        ("config.json", "has no config.json"),
    ]:
        copy = tmp_path / missing
        shutil.copytree(x2_dir, copy)
        (copy / missing).unlink()
        with pytest.raises(WeightsError, match=says):
            preflight(copy)
    other = tmp_path / "other"
    shutil.copytree(x2_dir, other)
    (other / "config.json").write_text(json.dumps({"model_type": "swin"}))
    with pytest.raises(WeightsError, match=r"holds a swin .*needs a swin2sr model"):
        preflight(other)


def test_settings_reach_the_config() -> None:
    config = swin2sr_config(
        Settings(
            swin2sr_device="cuda:1", swin2sr_dtype="float16", swin2sr_tile=0, swin2sr_compile=True
        )
    )
    assert (config.device, config.dtype, config.tile, config.compile) == (
        "cuda:1",
        "float16",
        0,
        True,
    )


def test_passes_and_tiles() -> None:
    assert passes(2, 24, 24, 48, 48) == 1
    assert passes(2, 24, 24, 96, 96) == 2
    assert passes(2, 24, 24, 72, 72) == 2  # 3x: two passes, then Lanczos down
    assert passes(4, 24, 24, 48, 48) == 1
    assert passes(4, 24, 24, 24, 24) == 0  # no enlargement: Lanczos only
    assert passes(2, 1920, 1080, 3840, 2160) == 1
    assert tiles(24, 16, 4) == [0, 8]
    assert tiles(100, 40, 8) == [0, 32, 60]
    assert tiles(24, 0, 4) == tiles(10, 16, 4) == [0]


# -- the engine, in its child ------------------------------------------------------------------


@pytest.mark.parametrize("factor", [2, 4, 3])
def test_a_24px_image_comes_back_at_exactly_the_asked_factor(
    engine: Swin2SREngine, factor: int
) -> None:
    output = engine.run(upscale_request(noise(24, 24), upscale_factor=factor), lambda _: None)
    assert isinstance(output, ImageOutput) and len(output.images) == 1
    image = output.images[0]
    assert image.shape == (24 * factor, 24 * factor, 3) and image.dtype == np.uint8


def test_the_requests_width_and_height_win_over_the_factor(engine: Swin2SREngine) -> None:
    request = EngineRequest(
        operation=Capability.UPSCALE_IMAGE,
        prompt="",
        width=50,
        height=30,
        images=[noise(24, 16)],
        params={"upscale_factor": 4},
    )
    output = engine.run(request, lambda _: None)
    assert isinstance(output, ImageOutput) and output.images[0].shape == (30, 50, 3)


def test_an_rgba_image_keeps_its_alpha_resized_with_lanczos(engine: Swin2SREngine) -> None:
    rgba = noise(24, 24, 4, seed=3)
    rgba[:12, :, 3] = 0
    output = engine.run(upscale_request(rgba, upscale_factor=2), lambda _: None)
    assert isinstance(output, ImageOutput)
    image = output.images[0]
    assert image.shape == (48, 48, 4)
    want = Image.fromarray(rgba[:, :, 3]).resize((48, 48), Image.Resampling.LANCZOS)
    assert np.array_equal(image[:, :, 3], np.asarray(want))
    assert (image[:16, :, 3] == 0).all() and (image[:, :, 3] > 0).any()


def test_the_x4_model_runs_once_per_pass_and_tiles_match_the_whole_image(
    x4_dir: Path,
) -> None:
    whole = Swin2SRRunner(Swin2SRConfig(model_dir=x4_dir, device="cpu", tile=0))
    whole.load()
    assert whole.scale == 4
    image = noise(24, 20)
    out = whole.upscale(image, lambda _: None, lambda: False)
    assert out.shape == (80, 96, 3)
    tiled = Swin2SRRunner(Swin2SRConfig(model_dir=x4_dir, device="cpu", tile=16, tile_overlap=4))
    tiled.load()
    seen: list[float] = []
    out_tiled = tiled.upscale(image, seen.append, lambda: False)
    assert out_tiled.shape == out.shape and len(seen) == 4  # 2x2 tiles
    # A tile's edge sees less context; away from the seams the output is the same.
    assert np.abs(out_tiled[:16, :16].astype(int) - out[:16, :16].astype(int)).max() <= 1


def test_upscale_video_frame_by_frame_with_progress_per_frame(engine: Swin2SREngine) -> None:
    video = [noise(16, 12, seed=i) for i in range(5)]
    seen: list[float] = []
    request = EngineRequest(
        operation=Capability.UPSCALE_VIDEO,
        prompt="",
        width=64,
        height=48,
        num_frames=5,
        fps=24,
        video=video,
    )
    output = engine.run(request, seen.append)
    frames = list(output.frames)  # type: ignore[union-attr]
    assert len(frames) == 5 and all(f.shape == (48, 64, 3) for f in frames)
    assert (output.width, output.height) == (64, 48)  # type: ignore[union-attr]
    for k in (1, 2, 3, 4):
        assert any(abs(f - k / 5) < 1e-6 for f in seen), (k, seen)
    assert seen[-1] == 1.0


def test_interrupt_stops_a_video_between_frames(engine: Swin2SREngine) -> None:
    from reelserve.engines.isolated import EngineInterrupted

    video = [noise(16, 12, seed=i) for i in range(40)]
    request = EngineRequest(
        operation=Capability.UPSCALE_VIDEO,
        prompt="",
        width=32,
        height=24,
        num_frames=40,
        video=video,
    )
    seen: list[float] = []

    def stop(fraction: float) -> None:
        seen.append(fraction)
        engine.interrupt()

    with pytest.raises(EngineInterrupted):
        engine.run(request, stop)
    assert seen and seen[-1] < 1
    starts = engine.stats.starts
    output = engine.run(upscale_request(noise(8, 8)), lambda _: None)  # the child lives on
    assert isinstance(output, ImageOutput) and engine.stats.starts == starts


def test_a_child_killed_mid_video_fails_that_task_and_the_next_succeeds(x2_dir: Path) -> None:
    engine = Swin2SREngine(Swin2SRConfig(model_dir=x2_dir, device="cpu"))
    video = [noise(16, 12, seed=i) for i in range(8)]
    request = EngineRequest(
        operation=Capability.UPSCALE_VIDEO,
        prompt="",
        width=32,
        height=24,
        num_frames=8,
        video=video,
    )
    try:
        engine.setup()
        victim = engine.stats.pid
        assert victim is not None

        def kill(fraction: float) -> None:
            if fraction < 1 and engine.stats.pid == victim:
                os.kill(victim, signal.SIGKILL)

        with pytest.raises(EngineError, match=r"killed by SIGKILL.*the task was lost"):
            engine.run(request, kill)
        frames = list(engine.run(request, lambda _: None).frames)  # type: ignore[union-attr]
        assert len(frames) == 8 and engine.stats.starts == 2
    finally:
        engine.close()


def test_every_gpu_setting_is_applied_to_the_loaded_model(x2_dir: Path) -> None:
    import torch

    from reelserve.engines.upscale.runner import resolve_device, resolve_dtype

    made = swin2sr_config(
        Settings(
            swin2sr_model_dir=x2_dir,
            swin2sr_device="cpu",
            swin2sr_dtype="bfloat16",
            swin2sr_compile=True,
        )
    )
    model = load_model(made, resolve_device(made.device), resolve_dtype(made.dtype))
    assert type(model).__name__ == "Swin2SRForImageSuperResolution"
    assert model.dtype == torch.bfloat16 and model.device.type == "cpu"
    assert model._compiled_call_impl is not None
    assert not model.training
    plain = swin2sr_config(Settings(swin2sr_model_dir=x2_dir, swin2sr_device="cpu"))
    model = load_model(plain, resolve_device(plain.device), resolve_dtype(plain.dtype))
    assert model.dtype == torch.float32 and model._compiled_call_impl is None
    half = Swin2SRRunner(
        swin2sr_config(
            Settings(swin2sr_model_dir=x2_dir, swin2sr_device="cpu", swin2sr_dtype="float16")
        )
    )
    info = half.load()
    assert (info["dtype"], info["device"], info["compiled"]) == ("float16", "cpu", False)
    with pytest.raises(EngineError, match="REELSERVE_SWIN2SR_DEVICE='cuda' but CUDA"):
        if not torch.cuda.is_available():
            resolve_device("cuda")
        else:
            raise EngineError("REELSERVE_SWIN2SR_DEVICE='cuda' but CUDA (present here)")


# -- real server tasks ----------------------------------------------------------------------


def mp4_bytes(width: int, height: int, frames: int) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "v.mp4"
        with Mp4Writer(path, width, height, 24, preset="ultrafast") as writer:
            for i in range(frames):
                frame = np.zeros((height, width, 3), np.uint8)
                frame[:, : (i * 5) % width] = (200, 80, 40)
                writer.write(frame)
        return path.read_bytes()


@pytest.fixture(scope="module")
def static() -> Iterator[StaticHttpServer]:
    server = StaticHttpServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def swin_server(x2_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with run_server_with(
        tmp_path_factory.mktemp("swin2sr-server"),
        {"alice": None},
        worker_poll_s=0.1,
        routes="upscale_image=swin2sr;upscale_video=swin2sr;*=synthetic",
        swin2sr_model_dir=x2_dir,
        swin2sr_device="cpu",
    ) as running:
        yield running


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


def result_bytes(client: httpx.Client, record: dict[str, Any]) -> bytes:
    assert record["state"] == "success", record
    urls = json.loads(record["resultJson"])["resultUrls"]
    assert len(urls) == 1, urls
    response = client.get(urls[0], follow_redirects=True)
    assert response.status_code == 200
    return response.content


def test_market_upscale_tasks_run_on_swin2sr_loaded_once(
    swin_server: RunningServer, static: StaticHttpServer
) -> None:
    client = swin_server.client("alice")
    image_url = static.add("/in.png", png_bytes(24, 20), "image/png")
    record = market_task(
        client, "topaz/image-upscale", {"image_url": image_url, "upscale_factor": "4"}
    )
    image = Image.open(io.BytesIO(result_bytes(client, record)))
    assert image.size == (96, 80) and image.format in ("PNG", "JPEG")
    video_url = static.add("/in.mp4", mp4_bytes(32, 24, 6), "video/mp4")
    record = market_task(
        client, "topaz/video-upscale", {"video_url": video_url, "upscale_factor": "2"}
    )
    with tempfile.NamedTemporaryFile(suffix=".mp4") as f:
        f.write(result_bytes(client, record))
        f.flush()
        with av.open(f.name) as container:
            stream = container.streams.video[0]
            size = (stream.codec_context.width, stream.codec_context.height)
            count = sum(1 for _ in container.decode(video=0))
    assert size == (64, 48) and count == 6
    engine = swin_server.app.state.worker.registry.loaded("swin2sr")
    assert isinstance(engine, Swin2SREngine)
    assert engine.stats.starts == 1 and engine.stats.runs == 2  # loaded once for both


def test_engines_check_upscales_an_image_and_a_video(x2_dir: Path, tmp_path: Path) -> None:
    import re

    from typer.testing import CliRunner

    from reelserve.cli import app

    env = {
        "REELSERVE_DATA_DIR": str(tmp_path),
        "REELSERVE_ROUTES": "upscale_image=swin2sr;upscale_video=swin2sr",
        "REELSERVE_SWIN2SR_MODEL_DIR": str(x2_dir),
        "REELSERVE_SWIN2SR_DEVICE": "cpu",
    }
    result = CliRunner().invoke(app, ["engines", "check"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert re.fullmatch(
        r"swin2sr: loaded in \d+\.\d\d s \(Swin2SRForImageSuperResolution, cpu, float32\)",
        lines[0],
    ), lines
    assert re.fullmatch(
        r"swin2sr: upscale_image, 64x36 to 128x72 in \d+\.\d\d s \(pipeline \d+\.\d\d s\)",
        lines[1],
    ), lines
    assert re.fullmatch(
        r"swin2sr: upscale_video, 24 frames 64x36 to 128x72 in \d+\.\d\d s "
        r"\(pipeline \d+\.\d\d s\)",
        lines[2],
    ), lines


def test_engines_check_names_missing_swin2sr_weights(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from reelserve.cli import app

    env = {"REELSERVE_DATA_DIR": str(tmp_path), "REELSERVE_ROUTES": "upscale_image=swin2sr"}
    result = CliRunner().invoke(app, ["engines", "check"], env=env)
    assert result.exit_code == 2
    assert "needs REELSERVE_SWIN2SR_MODEL_DIR" in result.output
