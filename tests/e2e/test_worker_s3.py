"""A `reelserve worker` process in an S3 deployment writes its media to the bucket,
not to its own disk: the API process's signed link redirects to the bucket and the
video decodes."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.cluster import Cluster
from tests.databases import database_url
from tests.s3 import s3_overrides, s3_store
from tests.support import decode_all


@pytest.mark.timeout(180)
def test_a_worker_process_writes_media_to_the_bucket_and_the_api_redirects_there(
    tmp_path: Path,
) -> None:
    s3_env = {f"REELSERVE_{name.upper()}": str(value) for name, value in s3_overrides().items()}
    with (
        database_url("postgres", tmp_path / "data") as url,
        Cluster(tmp_path, url, **s3_env) as cluster,
    ):
        key = cluster.create_key("k")
        cluster.start_api()
        cluster.start_worker()
        cluster.wait_for_workers(1)
        headers = {"Authorization": f"Bearer {key}"}
        answer = httpx.post(
            cluster.base_url + "/api/v1/runway/generate",
            json={
                "prompt": "a lighthouse at dusk",
                "duration": 5,
                "quality": "720p",
                "aspectRatio": "16:9",
            },
            headers=headers,
            timeout=30,
        ).json()
        assert answer["code"] == 200, answer
        task_id = answer["data"]["taskId"]
        deadline = time.monotonic() + 120
        while True:
            record = httpx.get(
                cluster.base_url + "/api/v1/runway/record-detail",
                params={"taskId": task_id},
                headers=headers,
                timeout=30,
            ).json()["data"]
            if record["state"] in ("success", "fail"):
                break
            assert time.monotonic() < deadline, record
            time.sleep(0.2)
        assert record["state"] == "success", record
        video_url = record["videoInfo"]["videoUrl"]
        blob_key = urlsplit(video_url).path.removeprefix("/files/")

        assert asyncio.run(s3_store().size(blob_key)) > 0
        assert not (cluster.data_dir / "blobs" / "media").exists()

        redirect = httpx.get(video_url, timeout=30)
        assert redirect.status_code == 307, redirect.text
        assert redirect.headers["location"].startswith(s3_overrides()["s3_endpoint"])
        video = tmp_path / "from-worker.mp4"
        video.write_bytes(httpx.get(video_url, follow_redirects=True, timeout=60).content)
        frames = decode_all(video)
        assert len(frames) == 120
        assert frames[0].shape == (720, 1280, 3)
