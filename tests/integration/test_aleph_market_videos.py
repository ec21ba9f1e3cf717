"""Aleph and market tasks end to end: real MP4s in, real MP4s out, decoded and measured."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from reelserve.media.decode import probe
from reelserve.media.encode import Mp4Writer
from tests.receivers import Receiver
from tests.support import RunningServer, StaticHttpServer, decode_all, mad, png_bytes

ALEPH = "/api/v1/aleph"

# Rendering does not depend on the database: these encode many videos, so they run
# on SQLite only (the store and API suites, and tests/e2e/test_scale_out.py, cover
# PostgreSQL).
pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def source_frames(width: int, height: int, seconds: float, fps: int = 24) -> list[np.ndarray]:
    """A moving gradient with a bright square: structure to restyle, different every frame."""
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    frames = []
    for i in range(round(seconds * fps)):
        shift = 3.0 * i
        arr = np.stack([(x + shift) % 256 + 0 * y, y + 0 * x, 255 - (x + y) / 2], axis=-1)
        frame = arr.astype(np.uint8)
        left = (i * 2) % max(1, width - width // 4)
        frame[height // 3 : height // 2, left : left + width // 4] = (240, 240, 40)
        frames.append(frame)
    return frames


def mp4_bytes(tmp_path: Path, width: int, height: int, seconds: float, fps: int = 24) -> bytes:
    path = tmp_path / f"source-{width}x{height}-{seconds}-{fps}.mp4"
    with Mp4Writer(path, width, height, fps, preset="ultrafast") as writer:
        for frame in source_frames(width, height, seconds, fps):
            writer.write(frame)
    return path.read_bytes()


@pytest.fixture(scope="module")
def source_url(static_http: StaticHttpServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A 7 s 160x120 video at 24 fps."""
    data = mp4_bytes(tmp_path_factory.mktemp("sources"), 160, 120, 7)
    return static_http.add("/aleph/source-7s.mp4", data, "video/mp4")


@pytest.fixture(scope="module")
def source_video(server: RunningServer, source_url: str) -> list[np.ndarray]:
    response = httpx.get(source_url)
    path = Path(server.settings.data_dir) / "source-copy.mp4"
    path.write_bytes(response.content)
    return decode_all(path)


def wait_aleph(client: httpx.Client, task_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"{ALEPH}/record-info", params={"taskId": task_id}).json()
        assert body["code"] == 200, body
        if body["data"]["state"] in ("success", "fail"):
            return dict(body["data"])
        time.sleep(0.1)
    raise AssertionError(f"task {task_id} did not finish")


def aleph_task(server: RunningServer, **body: Any) -> dict[str, Any]:
    client = server.client("alice")
    answer = client.post(f"{ALEPH}/generate", json=body).json()
    assert answer["code"] == 200, answer
    return wait_aleph(client, answer["data"]["taskId"])


def aleph_video(server: RunningServer, tmp_path: Path, **body: Any) -> list[np.ndarray]:
    record = aleph_task(server, **body)
    assert record["state"] == "success", record
    assert record["successFlag"] == 1 and record["errorCode"] == 0, record
    url = record["response"]["resultVideoUrl"]
    assert record["response"]["taskId"] == record["taskId"]
    assert record["completeTime"].endswith("Z")
    response = server.client(None).get(url)
    assert response.status_code == 200
    path = tmp_path / f"{record['taskId']}.mp4"
    path.write_bytes(response.content)
    info = probe(path)
    assert info.fps == 24 and info.codec == "h264"
    cover = server.client(None).get(record["response"]["resultImageUrl"])
    assert cover.content[:8] == b"\x89PNG\r\n\x1a\n"
    return decode_all(path)


def mean_mad(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    return float(np.mean([mad(x, y) for x, y in zip(a, b, strict=True)]))


def test_a_seven_second_source_becomes_exactly_five_seconds_restyled_at_its_own_size(
    server: RunningServer, tmp_path: Path, source_url: str, source_video: list[np.ndarray]
) -> None:
    frames = aleph_video(server, tmp_path, prompt="Turn it into a watercolour", videoUrl=source_url)
    assert len(frames) == 120
    assert frames[0].shape == (120, 160, 3)
    assert mean_mad(frames, source_video[:120]) >= 10


def test_two_prompts_restyle_the_same_source_differently(
    server: RunningServer, tmp_path: Path, source_url: str
) -> None:
    a = aleph_video(server, tmp_path, prompt="Turn it into a watercolour", videoUrl=source_url)
    b = aleph_video(server, tmp_path, prompt="Make it a neon cyberpunk night", videoUrl=source_url)
    assert mean_mad(a, b) >= 10


def test_the_same_seed_gives_the_same_frames_and_another_seed_other_frames(
    server: RunningServer, tmp_path: Path, source_url: str
) -> None:
    body = {"prompt": "Film noir", "videoUrl": source_url}
    first = aleph_video(server, tmp_path, **body, seed=11)
    again = aleph_video(server, tmp_path, **body, seed="11")
    other = aleph_video(server, tmp_path, **body, seed=12)
    assert max(mad(x, y) for x, y in zip(first, again, strict=True)) == 0.0
    assert mean_mad(first, other) >= 10


def test_a_reference_image_pulls_the_colours_toward_its_own(
    server: RunningServer, tmp_path: Path, source_url: str
) -> None:
    red = "data:image/png;base64," + base64.b64encode(png_bytes(64, 64, (230, 20, 20))).decode()
    body = {"prompt": "Film noir", "videoUrl": source_url, "seed": 5}
    plain = aleph_video(server, tmp_path, **body)
    tinted = aleph_video(server, tmp_path, **body, referenceImage=red)
    assert mean_mad(plain, tinted) >= 10
    redness = [float(np.mean(f[..., 0].astype(float) - f[..., 2])) for f in (plain[0], tinted[0])]
    assert redness[1] > redness[0] + 20


@pytest.mark.parametrize(
    ("ratio", "size"),
    [
        ("16:9", (1280, 720)),
        ("9:16", (720, 1280)),
        ("4:3", (960, 720)),
        ("3:4", (720, 960)),
        ("1:1", (960, 960)),
        ("21:9", (1680, 720)),
    ],
)
def test_aspect_ratio_centre_crops_to_the_720p_class_size(
    server: RunningServer,
    static_http: StaticHttpServer,
    tmp_path: Path,
    ratio: str,
    size: tuple[int, int],
) -> None:
    url = static_http.add("/aleph/short.mp4", mp4_bytes(tmp_path, 96, 64, 0.5), "video/mp4")
    frames = aleph_video(server, tmp_path, prompt="Crop", videoUrl=url, aspectRatio=ratio)
    assert len(frames) == 12
    assert frames[0].shape == (size[1], size[0], 3)


def test_a_short_source_at_another_rate_keeps_its_length_at_24_fps(
    server: RunningServer, tmp_path: Path
) -> None:
    data = mp4_bytes(tmp_path, 64, 48, 2, fps=10)
    uri = "data:video/mp4;base64," + base64.b64encode(data).decode()
    frames = aleph_video(server, tmp_path, prompt="Sketch", videoUrl=uri)
    assert len(frames) == 48
    assert frames[0].shape == (48, 64, 3)


def test_a_source_over_10_mb_fails_with_failcode_400_and_says_so(
    server: RunningServer, static_http: StaticHttpServer
) -> None:
    url = static_http.add("/aleph/huge.mp4", b"\0" * (10 * 2**20 + 1), "video/mp4")
    record = aleph_task(server, prompt="Too big", videoUrl=url)
    assert record["state"] == "fail" and record["successFlag"] == 0
    assert record["errorCode"] == 400
    assert "larger than 10 MB" in record["errorMessage"]
    assert record["response"] == {"taskId": "", "resultVideoUrl": "", "resultImageUrl": ""}
    assert record["completeTime"].endswith("Z")


def test_a_source_that_is_not_a_video_fails_with_failcode_400_and_says_so(
    server: RunningServer, static_http: StaticHttpServer
) -> None:
    url = static_http.add("/aleph/picture.mp4", png_bytes(64, 48), "video/mp4")
    record = aleph_task(server, prompt="Not a video", videoUrl=url)
    assert record["state"] == "fail" and record["errorCode"] == 400
    assert "could not be decoded" in record["errorMessage"]


def test_an_unreachable_source_fails_with_failcode_400(
    server: RunningServer, static_http: StaticHttpServer
) -> None:
    record = aleph_task(server, prompt="Gone", videoUrl=static_http.base_url + "/missing.mp4")
    assert record["state"] == "fail" and record["errorCode"] == 400
    assert record["errorMessage"].startswith("Get video info failed")


def test_aleph_callbacks_carry_the_result_urls_or_null_data(
    server: RunningServer, static_http: StaticHttpServer, source_url: str
) -> None:
    with Receiver() as rx:
        client = server.client("alice")
        ok_id = client.post(
            f"{ALEPH}/generate",
            json={"prompt": "Callback", "videoUrl": source_url, "callBackUrl": rx.url("/ok")},
        ).json()["data"]["taskId"]
        bad_url = static_http.add("/aleph/bad.mp4", b"nope", "video/mp4")
        bad_id = client.post(
            f"{ALEPH}/generate",
            json={"prompt": "Callback", "videoUrl": bad_url, "callBackUrl": rx.url("/bad")},
        ).json()["data"]["taskId"]
        (ok,) = rx.wait_for("/ok", 1, timeout=60)
        (bad,) = rx.wait_for("/bad", 1, timeout=60)
    record = wait_aleph(client, ok_id)
    assert ok.json() == {
        "code": 200,
        "msg": "success",
        "data": {
            "result_video_url": record["response"]["resultVideoUrl"],
            "result_image_url": record["response"]["resultImageUrl"],
        },
        "taskId": ok_id,
    }
    failed = wait_aleph(client, bad_id)
    assert bad.json() == {
        "code": 400,
        "msg": failed["errorMessage"],
        "data": None,
        "taskId": bad_id,
    }


# --- market ----------------------------------------------------------------------------------


def market_task(server: RunningServer, model: str, **body: Any) -> dict[str, Any]:
    client = server.client("alice")
    answer = client.post("/api/v1/jobs/createTask", json={"model": model, **body}).json()
    assert answer["code"] == 200, answer
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        data = client.get("/api/v1/jobs/recordInfo", params={"taskId": answer["data"]["taskId"]})
        record = data.json()["data"]
        if record["state"] in ("success", "fail"):
            return dict(record)
        assert record["state"] in ("waiting", "queuing", "generating")
        assert 0 <= record["progress"] <= 100
        time.sleep(0.1)
    raise AssertionError("market task did not finish")


def market_video(server: RunningServer, tmp_path: Path, record: dict[str, Any]) -> Path:
    assert record["state"] == "success", record
    assert record["failCode"] == "" and record["failMsg"] == "" and record["progress"] == 100
    assert record["completeTime"] >= record["createTime"] and record["costTime"] >= 0
    urls = json.loads(record["resultJson"])["resultUrls"]
    assert len(urls) == 1
    response = server.client(None).get(urls[0])
    assert response.status_code == 200
    path = tmp_path / f"{record['taskId']}.mp4"
    path.write_bytes(response.content)
    return path


def test_market_text_to_video_succeeds_at_the_480p_size_and_duration(
    server: RunningServer, tmp_path: Path
) -> None:
    input_ = {"prompt": "A fox", "duration": "2", "resolution": "480p", "seed": 3}
    record = market_task(server, "synthetic/text-to-video", input=input_)
    info = probe(market_video(server, tmp_path, record))
    assert (info.width, info.height, info.frame_count) == (852, 480, 48)
    assert record["model"] == "synthetic/text-to-video"


def test_market_image_to_video_starts_from_the_image(
    server: RunningServer, static_http: StaticHttpServer, tmp_path: Path
) -> None:
    url = static_http.add("/market/start.png", png_bytes(640, 640, (200, 40, 40)), "image/png")
    input_ = {
        "prompt": "Red",
        "image_url": url,
        "duration": 1,
        "resolution": "360p",
        "aspect_ratio": "1:1",
    }
    record = market_task(server, "synthetic/image-to-video", input=input_)
    path = market_video(server, tmp_path, record)
    frames = decode_all(path)
    assert frames[0].shape == (480, 480, 3) and len(frames) == 24
    assert mad(frames[0], np.full_like(frames[0], (200, 40, 40))) < 6


def test_market_video_to_video_restyles_the_source_for_at_most_its_duration(
    server: RunningServer, tmp_path: Path, source_url: str
) -> None:
    input_ = {"prompt": "Watercolour", "video_url": source_url, "duration": 2, "resolution": "360p"}
    record = market_task(server, "synthetic/video-to-video", input=input_)
    info = probe(market_video(server, tmp_path, record))
    assert (info.width, info.height, info.frame_count) == (640, 360, 48)


def test_a_failed_market_task_reports_its_fail_code_as_a_string(
    server: RunningServer, static_http: StaticHttpServer
) -> None:
    url = static_http.add("/market/not-video.mp4", b"garbage", "video/mp4")
    input_ = {"prompt": "x", "video_url": url}
    record = market_task(server, "synthetic/video-to-video", input=input_)
    assert record["state"] == "fail"
    assert record["failCode"] == "400" and record["failMsg"]
    assert record["resultJson"] == "" and isinstance(record["completeTime"], int)


def test_market_callbacks_carry_the_record_and_credits_consumed(
    server: RunningServer, static_http: StaticHttpServer
) -> None:
    with Receiver() as rx:
        ok = market_task(
            server,
            "synthetic/text-to-video",
            input={"prompt": "cb", "duration": 1, "resolution": "360p"},
            callBackUrl=rx.url("/market-ok"),
        )
        bad_url = static_http.add("/market/bad.mp4", b"nope", "video/mp4")
        bad = market_task(
            server,
            "synthetic/video-to-video",
            input={"prompt": "cb", "video_url": bad_url},
            callBackUrl=rx.url("/market-bad"),
        )
        (ok_cb,) = rx.wait_for("/market-ok", 1, timeout=60)
        (bad_cb,) = rx.wait_for("/market-bad", 1, timeout=60)
    expected_keys = (set(ok) - {"progress"}) | {"creditsConsumed"}
    for payload, record, code in ((ok_cb.json(), ok, 200), (bad_cb.json(), bad, 501)):
        assert payload["code"] == code
        assert set(payload) == {"code", "msg", "data"}
        assert set(payload["data"]) == expected_keys
        assert isinstance(payload["data"]["creditsConsumed"], int)
        for name in ("taskId", "model", "state", "param", "resultJson", "failCode", "failMsg"):
            assert payload["data"][name] == record[name]
    # 1 s at 360p costs ceil(4 / 5) = 1 credit; the failed task was refunded.
    assert ok_cb.json()["data"]["creditsConsumed"] == 1
    assert bad_cb.json()["data"]["creditsConsumed"] == 0
    assert bad_cb.json()["msg"] == bad["failMsg"]
