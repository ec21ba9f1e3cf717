"""What the Runway endpoints produce: real MP4s, decoded with PyAV and measured."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image

from reelserve.media.decode import probe
from reelserve.media.frames import fit_cover
from tests.support import RunningServer, StaticHttpServer, decode_all, mad, png_bytes

GEOMETRY = {
    ("16:9", "720p"): (1280, 720),
    ("16:9", "1080p"): (1920, 1080),
    ("9:16", "720p"): (720, 1280),
    ("9:16", "1080p"): (1080, 1920),
    ("1:1", "720p"): (960, 960),
    ("1:1", "1080p"): (1440, 1440),
    ("4:3", "720p"): (960, 720),
    ("4:3", "1080p"): (1440, 1080),
    ("3:4", "720p"): (720, 960),
    ("3:4", "1080p"): (1080, 1440),
}

# Rendering does not depend on the database: these encode many videos, so they run
# on SQLite only (the store and API suites, and tests/e2e/test_scale_out.py, cover
# PostgreSQL).
pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def generate(
    server: RunningServer, tmp_path: Path, key: str = "alice", **body: Any
) -> tuple[dict[str, Any], Path]:
    client = server.client(key)
    answer = client.post("/api/v1/runway/generate", json=body).json()
    assert answer["code"] == 200, answer
    record = server.wait(client, answer["data"]["taskId"])
    assert record["state"] == "success", record
    return record, download(server, record, tmp_path, key)


def extend(
    server: RunningServer, tmp_path: Path, parent: str, **body: Any
) -> tuple[dict[str, Any], Path]:
    client = server.client("alice")
    answer = client.post("/api/v1/runway/extend", json={"taskId": parent, **body}).json()
    assert answer["code"] == 200, answer
    record = server.wait(client, answer["data"]["taskId"])
    assert record["state"] == "success", record
    return record, download(server, record, tmp_path, "alice")


def download(
    server: RunningServer, record: dict[str, Any], tmp_path: Path, key: str = "alice"
) -> Path:
    response = server.client(None).get(record["videoInfo"]["videoUrl"])
    assert response.status_code == 200
    path = tmp_path / f"{record['taskId']}.mp4"
    path.write_bytes(response.content)
    return path


def text_body(prompt: str = "A lighthouse at dawn", **extra: Any) -> dict[str, Any]:
    return {"prompt": prompt, "duration": 5, "quality": "720p", "aspectRatio": "16:9", **extra}


@pytest.mark.slow
@pytest.mark.parametrize(("ratio", "quality"), sorted(GEOMETRY))
def test_output_follows_the_geometry_table(
    server: RunningServer, tmp_path: Path, ratio: str, quality: str
) -> None:
    record, path = generate(server, tmp_path, **text_body(aspectRatio=ratio, quality=quality))
    info = probe(path)
    assert (info.width, info.height) == GEOMETRY[(ratio, quality)]
    assert info.fps == 24
    assert info.codec == "h264"
    assert info.pix_fmt == "yuv420p"
    assert info.frame_count == 120
    assert len(decode_all(path)) == 120
    cover = server.client(None).get(record["videoInfo"]["imageUrl"])
    assert cover.status_code == 200 and cover.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert cover.headers["content-type"] == "image/png"


def test_ten_second_video_has_240_frames_and_short_gops(
    server: RunningServer, tmp_path: Path
) -> None:
    _, path = generate(server, tmp_path, **text_body(duration=10))
    with av.open(str(path)) as container:
        keyframes = [i for i, p in enumerate(container.demux(video=0)) if p.size and p.is_keyframe]
    assert probe(path).frame_count == 240
    gaps = np.diff([*keyframes, 240])
    assert keyframes[0] == 0 and gaps.max() <= 48


def test_mp4_is_faststart(server: RunningServer, tmp_path: Path) -> None:
    _, path = generate(server, tmp_path, **text_body("faststart check"))
    data = path.read_bytes()
    assert 0 < data.find(b"moov") < data.find(b"mdat")


def test_same_request_twice_gives_the_same_frames(server: RunningServer, tmp_path: Path) -> None:
    body = text_body("Determinism is a feature", waterMark="same")
    _, first = generate(server, tmp_path, **body)
    _, second = generate(server, tmp_path, **body)
    a, b = decode_all(first), decode_all(second)
    assert len(a) == len(b) == 120
    assert max(mad(x, y) for x, y in zip(a, b, strict=True)) == 0.0


def test_different_prompts_give_visibly_different_videos(
    server: RunningServer, tmp_path: Path
) -> None:
    _, first = generate(server, tmp_path, **text_body("A red fox running through snow"))
    _, second = generate(server, tmp_path, **text_body("Neon city streets in the rain"))
    a, b = decode_all(first), decode_all(second)
    assert np.mean([mad(x, y) for x, y in zip(a, b, strict=True)]) >= 10


def test_text_to_video_moves(server: RunningServer, tmp_path: Path) -> None:
    _, path = generate(server, tmp_path, **text_body("Moving shapes"))
    frames = decode_all(path)
    assert mad(frames[0], frames[-1]) >= 10


def test_watermark_is_burnt_bottom_right_and_nowhere_else(
    server: RunningServer, tmp_path: Path
) -> None:
    _, plain = generate(server, tmp_path, **text_body("Watermark check"))
    _, marked = generate(
        server, tmp_path, **text_body("Watermark check", waterMark="reelserve demo")
    )
    a, b = decode_all(plain), decode_all(marked)
    diff = np.abs(a[60].astype(np.int16) - b[60].astype(np.int16)).max(axis=2)
    h, w = diff.shape
    changed = diff > 40
    assert changed.sum() > 200, "the watermark should change some pixels"
    ys, xs = np.nonzero(changed)
    assert ys.min() >= h // 2 and xs.min() >= w // 2, "changes only in the bottom-right quadrant"
    # Outside the bottom-right quadrant the frames match to within encoder noise
    # (rate control spreads a little noise across the frame when any part changes).
    outside = np.ones_like(diff, dtype=bool)
    outside[h // 2 :, w // 2 :] = False
    assert diff[outside].mean() < 3.0


def _fitted_reference(image_bytes: bytes, width: int, height: int) -> np.ndarray:
    from io import BytesIO

    source = np.asarray(Image.open(BytesIO(image_bytes)).convert("RGB"))
    return fit_cover(source, width, height)


def test_image_to_video_starts_from_the_fitted_image_and_moves(
    server: RunningServer, tmp_path: Path
) -> None:
    image = png_bytes(800, 600)
    data_uri = "data:image/png;base64," + base64.b64encode(image).decode()
    record, path = generate(
        server, tmp_path, prompt="Bring it to life", duration=5, quality="720p", imageUrl=data_uri
    )
    info = probe(path)
    assert (info.width, info.height) == (960, 720), "800x600 is nearest 4:3"
    frames = decode_all(path)
    assert mad(frames[0], _fitted_reference(image, 960, 720)) < 4
    assert mad(frames[0], frames[-1]) >= 10
    assert record["generateParam"]["imageUrl"].startswith(server.base_url + "/files/inputs/")


def test_a_flat_image_still_moves(server: RunningServer, tmp_path: Path) -> None:
    image = png_bytes(640, 640, color=(128, 128, 128))
    uri = "data:image/png;base64," + base64.b64encode(image).decode()
    _, path = generate(server, tmp_path, prompt="Grey", duration=5, quality="720p", imageUrl=uri)
    frames = decode_all(path)
    assert probe(path).width == 960 and probe(path).height == 960
    assert mad(frames[0], frames[-1]) >= 10


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((1000, 300), (1280, 720)),
        ((300, 1000), (720, 1280)),
        ((1000, 1000), (960, 960)),
        ((600, 800), (720, 960)),
    ],
)
def test_image_decides_the_ratio_even_when_aspect_ratio_is_given(
    server: RunningServer,
    static_http: StaticHttpServer,
    tmp_path: Path,
    size: tuple[int, int],
    expected: tuple[int, int],
) -> None:
    url = static_http.add(
        f"/ratio-{size[0]}x{size[1]}.jpg", png_bytes(*size, fmt="JPEG"), "image/jpeg"
    )
    record, path = generate(
        server,
        tmp_path,
        prompt="ratio",
        duration=5,
        quality="720p",
        aspectRatio="1:1",
        imageUrl=url,
    )
    info = probe(path)
    assert (info.width, info.height) == expected
    assert record["generateParam"]["imageUrl"] == url


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_image_url_is_fetched_by_the_server_in_each_format(
    server: RunningServer, static_http: StaticHttpServer, tmp_path: Path, fmt: str
) -> None:
    url = static_http.add(
        f"/img.{fmt.lower()}", png_bytes(640, 360, fmt=fmt), f"image/{fmt.lower()}"
    )
    _, path = generate(server, tmp_path, prompt="fetched", duration=5, quality="720p", imageUrl=url)
    assert probe(path).width == 1280


def _fails(server: RunningServer, body: dict[str, Any]) -> dict[str, Any]:
    client = server.client("alice")
    answer = client.post("/api/v1/runway/generate", json=body).json()
    assert answer["code"] == 200, answer
    record = server.wait(client, answer["data"]["taskId"])
    assert record["state"] == "fail"
    assert record["videoInfo"] is None
    return record


def test_an_image_url_that_cannot_be_fetched_fails_with_get_image_info_failed(
    server: RunningServer, static_http: StaticHttpServer
) -> None:
    record = _fails(
        server,
        {
            "prompt": "x",
            "duration": 5,
            "quality": "720p",
            "imageUrl": static_http.base_url + "/missing.png",
        },
    )
    assert (record["failCode"], record["failMsg"]) == (400, "Get image info failed")


def test_an_unreachable_host_fails_with_get_image_info_failed(server: RunningServer) -> None:
    record = _fails(
        server,
        {
            "prompt": "x",
            "duration": 5,
            "quality": "720p",
            "imageUrl": "http://127.0.0.1:9/nothing.png",
        },
    )
    assert (record["failCode"], record["failMsg"]) == (400, "Get image info failed")


def test_an_image_over_10_mb_fails_with_get_image_info_failed(
    server: RunningServer, static_http: StaticHttpServer
) -> None:
    url = static_http.add("/huge.png", b"\x89PNG" + b"\0" * (10 * 1024 * 1024 + 10), "image/png")
    record = _fails(server, {"prompt": "x", "duration": 5, "quality": "720p", "imageUrl": url})
    assert (record["failCode"], record["failMsg"]) == (400, "Get image info failed")


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("text.png", b"this is not an image"),
        (
            "anim.gif",
            b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;",
        ),
    ],
)
def test_a_source_that_is_not_jpeg_png_or_webp_fails_with_incorrect_image_format(
    server: RunningServer, static_http: StaticHttpServer, name: str, body: bytes
) -> None:
    url = static_http.add(f"/{name}", body, "image/png")
    record = _fails(server, {"prompt": "x", "duration": 5, "quality": "720p", "imageUrl": url})
    assert (record["failCode"], record["failMsg"]) == (400, "Incorrect image format")


def test_extension_starts_from_the_parents_last_frame_and_appends_five_seconds(
    server: RunningServer, tmp_path: Path
) -> None:
    parent, parent_path = generate(
        server, tmp_path, **text_body("A kite over the beach", waterMark="wm")
    )
    record, path = extend(
        server, tmp_path, parent["taskId"], prompt="The kite flies away", quality="720p"
    )
    assert record["parentTaskId"] == parent["taskId"]
    assert record["generateParam"]["prompt"] == "The kite flies away"
    info = probe(path)
    assert (info.width, info.height, info.frame_count, info.fps) == (1280, 720, 240, 24)
    source, result = decode_all(parent_path), decode_all(path)
    # The first 5 s are the parent (re-encoded once, so within encoder noise) ...
    assert np.mean([mad(a, b) for a, b in zip(source, result[:120], strict=True)]) < 3
    # ... and the new segment starts from the parent's last frame.
    assert mad(result[120], source[-1]) < 10
    assert mad(result[120], result[-1]) >= 10


def test_an_extension_of_an_extension_is_15_seconds(server: RunningServer, tmp_path: Path) -> None:
    first, _ = generate(server, tmp_path, **text_body("Chained", aspectRatio="9:16"))
    second, _ = extend(server, tmp_path, first["taskId"], prompt="again", quality="720p")
    third, path = extend(server, tmp_path, second["taskId"], prompt="and again", quality="720p")
    assert third["parentTaskId"] == second["taskId"]
    info = probe(path)
    assert (info.width, info.height, info.frame_count) == (720, 1280, 360)


def test_extension_at_another_quality_rescales_the_source_and_keeps_the_ratio(
    server: RunningServer, tmp_path: Path
) -> None:
    parent, _ = generate(server, tmp_path, **text_body("Square", aspectRatio="1:1"))
    _, path = extend(server, tmp_path, parent["taskId"], prompt="bigger", quality="1080p")
    info = probe(path)
    assert (info.width, info.height, info.frame_count) == (1440, 1440, 240)


def test_record_detail_reports_progress_and_success_fields(
    server: RunningServer, tmp_path: Path
) -> None:
    record, _ = generate(server, tmp_path, **text_body("fields"))
    assert record["progress"] == 1.0
    assert record["failCode"] is None and record["failMsg"] == "" and record["expireFlag"] == 0
    assert "queuePosition" not in record
    info = record["videoInfo"]
    assert set(info) == {"videoId", "taskId", "videoUrl", "imageUrl"}
    assert info["taskId"] == record["taskId"]
