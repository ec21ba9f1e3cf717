"""Engine crashes are retried up to max attempts; media expires honestly."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support import run_server


def test_an_engine_that_raises_is_retried_then_fails_with_500(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    engine_log = tmp_path / "engine.log"
    monkeypatch.setenv("REELSERVE_TEST_ENGINE_LOG", str(engine_log))
    with run_server(
        tmp_path / "data",
        engine_plugins={"raising": "tests.engines_for_tests:RaisingEngine"},
        engines="raising",
        max_attempts=3,
        backend=backend,
    ) as server:
        client = server.client()
        task = client.post(
            "/api/v1/runway/generate",
            json={"prompt": "boom", "duration": 5, "quality": "720p", "aspectRatio": "16:9"},
        ).json()["data"]["taskId"]
        record = server.wait(client, task)
    assert record["state"] == "fail" and record["failCode"] == 500
    assert record["failMsg"] == (
        "Generation failed, please try again later: the engine failed on all 3 attempts"
    )
    assert len(engine_log.read_text().splitlines()) == 3


RETENTION_S = 3.0


@pytest.fixture
def short_retention(tmp_path: Path, backend: str):  # type: ignore[no-untyped-def]
    with run_server(
        tmp_path / "data",
        media_retention_days=RETENTION_S / 86400,
        janitor_interval_s=0.3,
        backend=backend,
    ) as server:
        yield server


def test_expired_media_reports_expire_flag_answers_410_and_cannot_be_extended(
    short_retention,
) -> None:  # type: ignore[no-untyped-def]
    server = short_retention
    client = server.client()
    task = client.post(
        "/api/v1/runway/generate",
        json={"prompt": "fleeting", "duration": 5, "quality": "720p", "aspectRatio": "16:9"},
    ).json()["data"]["taskId"]
    record = server.wait(client, task)
    assert record["state"] == "success" and record["expireFlag"] == 0
    video_url, cover_url = record["videoInfo"]["videoUrl"], record["videoInfo"]["imageUrl"]
    anonymous = server.client(None)
    assert anonymous.get(video_url).status_code == 200

    deadline = time.monotonic() + 30
    while record["expireFlag"] == 0:
        assert time.monotonic() < deadline, "the janitor never expired the media"
        time.sleep(0.2)
        record = client.get("/api/v1/runway/record-detail", params={"taskId": task}).json()["data"]
    assert record["state"] == "success"
    assert anonymous.get(video_url).status_code == 410
    assert anonymous.get(cover_url).status_code == 410
    media_dir = Path(server.settings.data_dir) / "blobs" / "media" / task
    assert not media_dir.exists(), "the files themselves are gone"

    extension = client.post(
        "/api/v1/runway/extend", json={"taskId": task, "prompt": "more", "quality": "720p"}
    ).json()
    assert (
        extension["code"] == 422 and "taskId" in extension["msg"] and "expired" in extension["msg"]
    )


def test_media_within_retention_is_kept_by_the_janitor(tmp_path: Path) -> None:
    with run_server(tmp_path / "data", janitor_interval_s=0.2) as server:
        client = server.client()
        task = client.post(
            "/api/v1/runway/generate",
            json={"prompt": "kept", "duration": 5, "quality": "720p", "aspectRatio": "1:1"},
        ).json()["data"]["taskId"]
        record = server.wait(client, task)
        time.sleep(1.0)
        again = client.get("/api/v1/runway/record-detail", params={"taskId": task}).json()["data"]
        assert again["expireFlag"] == 0
        assert server.client(None).get(record["videoInfo"]["videoUrl"]).status_code == 200
