"""The real LTX and Wan engine code through real server tasks, on tiny random-weight checkpoints.

One server for the module: ltx-video for text/image-to-video and extend, wan
for video-to-video (Aleph). Each MP4 is downloaded and decoded.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from reelserve.engines.base import Capability, EngineRequest
from reelserve.engines.isolated import IsolatedEngine
from reelserve.media.decode import probe
from tests.engines.conftest import TinyWeights, tiny_settings
from tests.integration.test_aleph_market_videos import (
    market_task,
    mp4_bytes,
    wait_aleph,
)
from tests.support import RunningServer, decode_all, png_bytes, run_server


@pytest.fixture(scope="module")
def ai_server(
    tiny_weights: TinyWeights, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    settings = tiny_settings(tiny_weights, wan_model_dir=tiny_weights.wan_ti2v)
    with run_server(tmp_path_factory.mktemp("ai"), **settings) as running:
        yield running


def engine(server: RunningServer, name: str) -> IsolatedEngine:
    loaded = server.app.state.worker.registry.loaded(name)
    assert isinstance(loaded, IsolatedEngine), loaded
    return loaded


def runway(server: RunningServer, path: str, body: dict[str, Any]) -> dict[str, Any]:
    client = server.client("alice")
    answer = client.post(f"/api/v1/runway/{path}", json=body).json()
    assert answer["code"] == 200, answer
    return server.wait(client, answer["data"]["taskId"])


def fetch(server: RunningServer, url: str, tmp_path: Path, name: str) -> Path:
    response = server.client(None).get(url)
    assert response.status_code == 200
    path = tmp_path / name
    path.write_bytes(response.content)
    return path


def check_mp4(path: Path, width: int, height: int, frames: int) -> list[np.ndarray]:
    info = probe(path)
    assert (info.width, info.height, info.fps, info.codec) == (width, height, 24, "h264")
    decoded = decode_all(path)
    assert len(decoded) == frames
    assert decoded[0].shape == (height, width, 3)
    return decoded


def test_text_to_video_runs_ltx_and_gives_a_720p_five_second_mp4(
    ai_server: RunningServer, tmp_path: Path
) -> None:
    body = {"prompt": "a cat runs on the beach", "duration": 5, "quality": "720p"}
    record = runway(ai_server, "generate", {**body, "aspectRatio": "16:9"})
    assert record["state"] == "success", record
    path = fetch(ai_server, record["videoInfo"]["videoUrl"], tmp_path, "t2v.mp4")
    frames = check_mp4(path, 1280, 720, 120)
    # Random weights make noise, not a flat synthetic frame: the pixels vary.
    assert float(np.std(frames[0])) > 5
    assert engine(ai_server, "ltx-video").stats.runs >= 1


def test_image_to_video_conditions_ltx_on_the_image(
    ai_server: RunningServer, tmp_path: Path
) -> None:
    image = "data:image/png;base64," + base64.b64encode(png_bytes(96, 128)).decode()
    record = runway(
        ai_server,
        "generate",
        {"prompt": "a dog", "duration": 5, "quality": "720p", "imageUrl": image},
    )
    assert record["state"] == "success", record
    path = fetch(ai_server, record["videoInfo"]["videoUrl"], tmp_path, "i2v.mp4")
    check_mp4(path, 720, 960, 120)  # a 3:4 image gives a 3:4 video


def test_extend_keeps_the_parent_and_appends_the_ltx_continuation(
    ai_server: RunningServer, tmp_path: Path
) -> None:
    parent = runway(
        ai_server,
        "generate",
        {"prompt": "a red car", "duration": 5, "quality": "720p", "aspectRatio": "16:9"},
    )
    assert parent["state"] == "success", parent
    parent_frames = decode_all(
        fetch(ai_server, parent["videoInfo"]["videoUrl"], tmp_path, "parent.mp4")
    )
    child = runway(
        ai_server, "extend", {"taskId": parent["taskId"], "prompt": "at night", "quality": "720p"}
    )
    assert child["state"] == "success", child
    frames = check_mp4(
        fetch(ai_server, child["videoInfo"]["videoUrl"], tmp_path, "extended.mp4"),
        1280,
        720,
        240,
    )
    # The parent plays first (re-encoded once), then the new segment.
    head = np.mean(
        [
            np.abs(a.astype(int) - b.astype(int)).mean()
            for a, b in zip(frames[:120], parent_frames, strict=True)
        ]
    )
    assert head < 6


def test_aleph_video_to_video_runs_wan_on_the_source(
    ai_server: RunningServer, tmp_path: Path
) -> None:
    source = mp4_bytes(tmp_path, 160, 120, 2)
    data_uri = "data:video/mp4;base64," + base64.b64encode(source).decode()
    client = ai_server.client("alice")
    answer = client.post(
        "/api/v1/aleph/generate", json={"prompt": "make it night", "videoUrl": data_uri}
    ).json()
    assert answer["code"] == 200, answer
    record = wait_aleph(client, answer["data"]["taskId"])
    assert record["state"] == "success", record
    path = fetch(ai_server, record["response"]["resultVideoUrl"], tmp_path, "aleph.mp4")
    check_mp4(path, 160, 120, 48)
    wan = engine(ai_server, "wan")
    assert wan.stats.runs >= 1 and wan.stats.info["pipeline"] == "WanPipeline"


def test_the_model_is_loaded_once_and_kept_resident_across_tasks(
    ai_server: RunningServer,
) -> None:
    ltx = engine(ai_server, "ltx-video")
    pid, runs = ltx.stats.pid, ltx.stats.runs
    for prompt in ("a cat", "a dog"):
        record = market_task(ai_server, MARKET_T2V, input=small(prompt))
        assert record["state"] == "success", record
    assert ltx.stats.runs == runs + 2
    assert ltx.stats.pid == pid and pid != os.getpid()
    assert ltx.stats.starts == 1
    assert ltx.stats.info["loads"] == 1


MARKET_T2V = "synthetic/text-to-video"
"""A market model name; the engine behind it is whatever REELSERVE_ENGINES says (here LTX)."""


def small(prompt: str, **extra: Any) -> dict[str, Any]:
    return {"prompt": prompt, "duration": 2, "resolution": "360p", "aspect_ratio": "16:9", **extra}


def test_a_wan_ti2v_checkpoint_also_makes_text_and_image_to_video(
    ai_server: RunningServer,
) -> None:
    # The module's server runs Wan on a TI2V-style checkpoint (for Aleph);
    # its other two operations are called on the same resident engine.
    wan = engine(ai_server, "wan")
    assert Capability.IMAGE_TO_VIDEO in wan.capabilities
    image = np.zeros((36, 64, 3), np.uint8) + np.array([200, 40, 40], np.uint8)
    for operation, extra in (
        (Capability.TEXT_TO_VIDEO, {}),
        (Capability.IMAGE_TO_VIDEO, {"image": image}),
    ):
        request = EngineRequest(
            operation=operation,
            prompt="a city at night",
            width=64,
            height=36,
            num_frames=48,
            fps=24,
            seed=7,
            **extra,
        )
        fractions: list[float] = []
        output = wan.run(request, fractions.append)
        frames = list(output.frames)
        assert len(frames) == output.num_frames == 9
        assert frames[0].shape == (output.height, output.width, 3) == (32, 48, 3)
        assert output.fps == 16
        assert fractions[-1] == 1.0 and fractions == sorted(fractions)
    assert wan.stats.starts == 1
