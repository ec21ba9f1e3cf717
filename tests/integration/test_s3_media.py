"""A real reelserve with its media in S3 (the SeaweedFS server `./scripts/test` starts).

Links handed out still point at reelserve and are checked there (403, 410);
a good one is answered with a redirect to a short-lived presigned S3 URL,
which serves the bytes (and Range) itself.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import numpy as np
import pytest
from PIL import Image

from reelserve.media.frames import fit_cover
from tests.s3 import s3_overrides, s3_store
from tests.support import RunningServer, decode_all, mad, png_bytes, run_server

PRESIGN_S = 900
MIB = 1024 * 1024


def _s3_server(data_dir: Path, **overrides: Any) -> Any:
    # The URL guard stays on: own media must be read from the store, never fetched.
    values = {
        **s3_overrides(),
        "s3_presign_s": PRESIGN_S,
        "s3_part_mb": 5,
        "allow_private_urls": False,
    }
    values.update(overrides)
    return run_server(data_dir, **values)


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with _s3_server(tmp_path_factory.mktemp("s3-server")) as running:
        yield running


def _generate(server: RunningServer, **body: Any) -> dict[str, Any]:
    client = server.client()
    request = {"prompt": "stored in a bucket", "duration": 5, "quality": "720p", **body}
    if "imageUrl" not in body:
        request["aspectRatio"] = "16:9"
    answer = client.post("/api/v1/runway/generate", json=request).json()
    assert answer["code"] == 200, answer
    return server.wait(client, answer["data"]["taskId"])


@pytest.fixture(scope="module")
def finished(s3_server: RunningServer) -> dict[str, Any]:
    record = _generate(s3_server)
    assert record["state"] == "success", record
    return record


def _key(url: str) -> str:
    return urlsplit(url).path.removeprefix("/files/")


def _anonymous(server: RunningServer, follow: bool) -> httpx.Client:
    return server.client(None, follow_redirects=follow)


def test_generated_media_is_in_the_bucket_and_not_on_local_disk(
    s3_server: RunningServer, finished: dict[str, Any]
) -> None:
    import asyncio

    s3 = s3_store()
    for url in (finished["videoInfo"]["videoUrl"], finished["videoInfo"]["imageUrl"]):
        assert asyncio.run(s3.size(_key(url))) > 0
    assert not (s3_server.settings.data_dir / "blobs" / "media").exists()


def test_the_signed_link_points_at_reelserve_and_redirects_to_a_fresh_presigned_url(
    s3_server: RunningServer, finished: dict[str, Any]
) -> None:
    url = finished["videoInfo"]["videoUrl"]
    assert url.startswith(s3_server.base_url + "/files/media/")
    response = _anonymous(s3_server, follow=False).get(url)
    assert response.status_code == 307
    assert response.headers["cache-control"] == "no-store"
    location = response.headers["location"]
    endpoint = s3_overrides()["s3_endpoint"]
    bucket = s3_overrides()["s3_bucket"]
    assert location.startswith(f"{endpoint}/{bucket}/media/")
    query = parse_qs(urlsplit(location).query)
    assert query["X-Amz-Expires"] == [str(PRESIGN_S)]
    assert "X-Amz-Signature" in query


def test_following_the_redirect_downloads_a_decodable_mp4(
    s3_server: RunningServer, finished: dict[str, Any], tmp_path: Path
) -> None:
    response = _anonymous(s3_server, follow=True).get(finished["videoInfo"]["videoUrl"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "video/mp4"
    video = tmp_path / "from-s3.mp4"
    video.write_bytes(response.content)
    frames = decode_all(video)
    assert len(frames) == 5 * 24
    assert frames[0].shape == (720, 1280, 3)
    cover = _anonymous(s3_server, follow=True).get(finished["videoInfo"]["imageUrl"])
    assert cover.status_code == 200 and cover.headers["content-type"] == "image/png"
    assert Image.open(BytesIO(cover.content)).size == (1280, 720)


def test_range_requests_work_through_the_redirect(
    s3_server: RunningServer, finished: dict[str, Any]
) -> None:
    client = _anonymous(s3_server, follow=True)
    url = finished["videoInfo"]["videoUrl"]
    whole = client.get(url).content
    partial = client.get(url, headers={"Range": "bytes=100-1099"})
    assert partial.status_code == 206
    assert partial.headers["content-range"] == f"bytes 100-1099/{len(whole)}"
    assert partial.content == whole[100:1100]
    tail = client.get(url, headers={"Range": "bytes=-500"})
    assert tail.status_code == 206 and tail.content == whole[-500:]


def test_a_head_request_follows_to_the_length(
    s3_server: RunningServer, finished: dict[str, Any]
) -> None:
    client = _anonymous(s3_server, follow=True)
    url = finished["videoInfo"]["videoUrl"]
    head = client.head(url)
    assert head.status_code == 200
    assert int(head.headers["content-length"]) == len(client.get(url).content)


@pytest.mark.parametrize("part", ["sig", "expires", "path", "missing-sig"])
def test_a_tampered_link_is_403_and_never_redirected(
    s3_server: RunningServer, finished: dict[str, Any], part: str
) -> None:
    split = urlsplit(finished["videoInfo"]["videoUrl"])
    path, query = split.path, {k: v[0] for k, v in parse_qs(split.query).items()}
    if part == "sig":
        query["sig"] = ("A" if query["sig"][0] != "A" else "B") + query["sig"][1:]
    elif part == "expires":
        query["expires"] = str(int(query["expires"]) + 86400)
    elif part == "path":
        path = path.replace("video.mp4", "cover.png")
    else:
        del query["sig"]
    response = _anonymous(s3_server, follow=False).get(
        f"{s3_server.base_url}{path}?{urlencode(query)}"
    )
    assert response.status_code == 403
    assert "location" not in response.headers
    assert response.json()["code"] == 403


def test_an_expired_link_is_403(s3_server: RunningServer, finished: dict[str, Any]) -> None:
    url = s3_server.app.state.signer.url(
        _key(finished["videoInfo"]["videoUrl"]), int(time.time()) - 1
    )
    response = _anonymous(s3_server, follow=False).get(url)
    assert response.status_code == 403 and "expired" in response.json()["msg"]


def test_a_validly_signed_link_to_nothing_in_the_bucket_is_410(s3_server: RunningServer) -> None:
    url = s3_server.app.state.signer.url("media/gone/none/video.mp4", int(time.time()) + 60)
    assert _anonymous(s3_server, follow=False).get(url).status_code == 410


def test_the_presigned_url_never_outlives_the_link(
    s3_server: RunningServer, finished: dict[str, Any]
) -> None:
    url = s3_server.app.state.signer.url(
        _key(finished["videoInfo"]["videoUrl"]), int(time.time()) + 30
    )
    location = _anonymous(s3_server, follow=False).get(url).headers["location"]
    assert 1 <= int(parse_qs(urlsplit(location).query)["X-Amz-Expires"][0]) <= 30


def test_a_fresh_download_url_redirects_too(
    s3_server: RunningServer, finished: dict[str, Any]
) -> None:
    answer = (
        s3_server.client()
        .post("/api/v1/common/download-url", json={"url": finished["videoInfo"]["videoUrl"]})
        .json()
    )
    assert answer["code"] == 200, answer
    fresh = _anonymous(s3_server, follow=True).get(answer["data"])
    assert fresh.status_code == 200 and fresh.content[4:8] == b"ftyp"


def test_extending_a_video_reads_the_parent_from_the_bucket(
    s3_server: RunningServer, finished: dict[str, Any], tmp_path: Path
) -> None:
    client = s3_server.client()
    answer = client.post(
        "/api/v1/runway/extend",
        json={"taskId": finished["taskId"], "prompt": "and then", "quality": "720p"},
    ).json()
    assert answer["code"] == 200, answer
    record = s3_server.wait(client, answer["data"]["taskId"])
    assert record["state"] == "success", record
    anonymous = _anonymous(s3_server, follow=True)
    parent, video = tmp_path / "parent.mp4", tmp_path / "extended.mp4"
    parent.write_bytes(anonymous.get(finished["videoInfo"]["videoUrl"]).content)
    video.write_bytes(anonymous.get(record["videoInfo"]["videoUrl"]).content)
    source, result = decode_all(parent), decode_all(video)
    assert len(result) == 2 * 5 * 24
    # The parent, fetched from the bucket by the worker, opens the extension.
    assert np.mean([mad(a, b) for a, b in zip(source, result[:120], strict=True)]) < 3
    assert mad(result[120], source[-1]) < 10


def _stream_upload(server: RunningServer, data: bytes, name: str, path: str) -> dict[str, Any]:
    files = {"file": (name, data, "application/octet-stream")}
    answer = (
        server.client()
        .post("/api/file-stream-upload", data={"uploadPath": path}, files=files)
        .json()
    )
    assert answer["code"] == 200, answer
    return dict(answer["data"])


def test_a_large_streamed_upload_lands_in_the_bucket_byte_exact(
    s3_server: RunningServer,
) -> None:
    import asyncio

    import obstore

    data = os.urandom(2 * 5 * MIB + 4321)  # three 5 MiB parts on the way in
    uploaded = _stream_upload(s3_server, data, "big.bin", "large")
    assert uploaded["fileSize"] == len(data)
    key = _key(uploaded["downloadUrl"])
    s3 = s3_store()
    assert asyncio.run(s3.get_bytes(key)) == data

    async def etag() -> str:
        return str((await obstore.head_async(s3._store, key))["e_tag"]).strip('"')

    assert asyncio.run(etag()).endswith("-3"), "sent as a 3-part multipart upload"
    assert not list((s3_server.settings.data_dir / "tmp").rglob("upload-*")), "temp file left"
    served = _anonymous(s3_server, follow=True).get(uploaded["downloadUrl"])
    assert served.status_code == 200 and served.content == data


def test_an_uploads_download_url_works_as_an_image_url(
    s3_server: RunningServer, tmp_path: Path
) -> None:
    image = png_bytes(800, 600)
    uploaded = _stream_upload(s3_server, image, "start.png", "starts")
    record = _generate(s3_server, imageUrl=uploaded["downloadUrl"])
    assert record["state"] == "success", record
    video = tmp_path / "from-upload.mp4"
    video.write_bytes(
        _anonymous(s3_server, follow=True).get(record["videoInfo"]["videoUrl"]).content
    )
    first = decode_all(video)[0]
    assert first.shape[:2] == (720, 960)
    source = np.asarray(Image.open(BytesIO(image)).convert("RGB"))
    assert mad(first, fit_cover(source, 960, 720)) < 4


async def _listed(store: Any, prefix: str) -> list[str]:
    return [key async for key in store.iter_prefix(prefix)]


def test_retention_deletes_expired_media_and_uploads_from_the_bucket(tmp_path: Path) -> None:
    import asyncio

    s3 = s3_store()
    with _s3_server(
        tmp_path / "data",
        media_retention_days=3.0 / 86400,
        upload_retention_hours=1 / 3600,
        janitor_interval_s=0.3,
    ) as server:
        uploaded = _stream_upload(server, png_bytes(64, 48), "brief.png", "short")
        record = _generate(server)
        assert record["state"] == "success" and record["expireFlag"] == 0
        task = record["taskId"]
        assert len(asyncio.run(_listed(s3, f"media/{task}"))) == 2  # video and cover
        client = server.client()
        deadline = time.monotonic() + 30
        while record["expireFlag"] == 0:
            assert time.monotonic() < deadline, "the janitor never expired the media"
            time.sleep(0.2)
            record = client.get("/api/v1/runway/record-detail", params={"taskId": task}).json()[
                "data"
            ]
        anonymous = _anonymous(server, follow=False)
        assert anonymous.get(record["videoInfo"]["videoUrl"]).status_code == 410
        assert anonymous.get(record["videoInfo"]["imageUrl"]).status_code == 410
        assert asyncio.run(_listed(s3, f"media/{task}")) == []
        upload_key = _key(uploaded["downloadUrl"])
        while asyncio.run(s3.exists(upload_key)):
            assert time.monotonic() < deadline, "the janitor never deleted the upload"
            time.sleep(0.2)
        assert anonymous.get(uploaded["downloadUrl"]).status_code == 410


def test_a_data_uri_source_is_stored_in_the_bucket_and_used(
    s3_server: RunningServer, tmp_path: Path
) -> None:
    import asyncio
    import base64

    image = png_bytes(640, 480, color=(220, 30, 40))
    uri = "data:image/png;base64," + base64.b64encode(image).decode()
    record = _generate(s3_server, imageUrl=uri)
    assert record["state"] == "success", record
    stored = asyncio.run(_listed(s3_store(), f"inputs/{record['taskId']}"))
    assert len(stored) == 1 and asyncio.run(s3_store().get_bytes(stored[0])) == image
    video = tmp_path / "from-data-uri.mp4"
    video.write_bytes(
        _anonymous(s3_server, follow=True).get(record["videoInfo"]["videoUrl"]).content
    )
    first = decode_all(video)[0]
    assert mad(first, fit_cover(np.asarray(Image.open(BytesIO(image))), 960, 720)) < 4


def test_an_uploaded_video_is_restyled_from_the_bucket(
    s3_server: RunningServer, tmp_path: Path
) -> None:
    from reelserve.media.encode import Mp4Writer

    source = tmp_path / "source.mp4"
    with Mp4Writer(source, 160, 120, 24, preset="ultrafast") as writer:
        for i in range(48):
            writer.write(np.full((120, 160, 3), (i * 5, 80, 200 - i * 4), np.uint8))
    uploaded = _stream_upload(s3_server, source.read_bytes(), "source.mp4", "videos")
    assert uploaded["mimeType"] == "video/mp4"
    client = s3_server.client()
    answer = client.post(
        "/api/v1/aleph/generate", json={"prompt": "Film noir", "videoUrl": uploaded["downloadUrl"]}
    ).json()
    assert answer["code"] == 200, answer
    deadline = time.monotonic() + 120
    while True:
        record = client.get(
            "/api/v1/aleph/record-info", params={"taskId": answer["data"]["taskId"]}
        ).json()["data"]
        if record["state"] in ("success", "fail"):
            break
        assert time.monotonic() < deadline, "the restyle never finished"
        time.sleep(0.1)
    assert record["state"] == "success", record
    video = tmp_path / "restyled.mp4"
    video.write_bytes(
        _anonymous(s3_server, follow=True).get(record["response"]["resultVideoUrl"]).content
    )
    frames = decode_all(video)
    assert len(frames) == 48 and frames[0].shape == (120, 160, 3)


def test_with_the_bucket_unreachable_files_answer_503_and_tasks_fail_cleanly(
    tmp_path: Path,
) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    with run_server(
        tmp_path / "data",
        s3_endpoint=dead,
        s3_bucket="nowhere",
        s3_access_key="k",
        s3_secret_key="s",
        max_attempts=1,
        storage_retry_s=1,  # the storage window, waited out before the task fails
    ) as server:
        url = server.app.state.signer.url("media/t/v/video.mp4", int(time.time()) + 60)
        response = _anonymous(server, follow=False).get(url)
        assert response.status_code == 503
        assert "unavailable" in response.json()["msg"]
        record = _generate(server)
        assert record["state"] == "fail" and record["failCode"] == 500, record
        assert record["failMsg"].startswith("could not store the result: media/"), record
