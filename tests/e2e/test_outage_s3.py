"""S3 (a SeaweedFS of this test's own, stopped with SIGTERM) away for 30 s while a
`reelserve worker` renders into it: no task fails, they all finish once it is back, and
the engine ran once per task (storage retries keep the rendered output)."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.cluster import Cluster
from tests.databases import database_url
from tests.e2e.test_scale_out import engine_runs
from tests.private_s3 import PrivateS3

OUTAGE_S = 30
TASKS = 9
SHAPE = {"duration": 5, "quality": "720p", "aspectRatio": "16:9"}


@pytest.mark.timeout(300)
def test_thirty_seconds_without_s3_fail_no_task_and_render_each_once(tmp_path: Path) -> None:
    engine_log = tmp_path / "engine.log"
    with (
        PrivateS3(tmp_path) as s3,
        database_url("postgres", tmp_path / "data") as url,
        Cluster(
            tmp_path,
            url,
            REELSERVE_ENGINE_PLUGINS="slow=tests.engines_for_tests:SlowSyntheticEngine",
            REELSERVE_ENGINES="slow",
            REELSERVE_TEST_ENGINE_LOG=str(engine_log),
            REELSERVE_WORKER_POLL_S="0.5",
            **s3.env(),
        ) as cluster,
    ):
        key = cluster.create_key("k")
        cluster.start_api()
        worker = cluster.start_worker("--concurrency", "3")
        cluster.wait_for_workers(1)
        client = httpx.Client(
            base_url=cluster.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        )
        ids = []
        for i in range(TASKS):
            body = {"prompt": f"s3 task {i}", **SHAPE}
            answer = client.post("/api/v1/runway/generate", json=body).json()
            assert answer["code"] == 200, answer
            ids.append(answer["data"]["taskId"])

        deadline = time.monotonic() + 60
        while len(engine_runs(engine_log)) < 3:  # every slot renders: they finish in the outage
            assert time.monotonic() < deadline, "the worker never got going"
            time.sleep(0.05)
        s3.stop()
        stopped = time.monotonic()
        states_during: Counter[str] = Counter()
        try:
            time.sleep(3)
            ready = client.get("/readyz")
            while time.monotonic() - stopped < OUTAGE_S:
                for task_id in ids:
                    record = client.get(
                        "/api/v1/runway/record-detail", params={"taskId": task_id}
                    ).json()
                    states_during[record["data"]["state"]] += 1
                assert worker.alive(), worker.tail()
                time.sleep(1)
        finally:
            s3.start()
        outage = time.monotonic() - stopped

        deadline = time.monotonic() + 120
        while True:
            records = [
                client.get("/api/v1/runway/record-detail", params={"taskId": t}).json()["data"]
                for t in ids
            ]
            states = Counter(r["state"] for r in records)
            assert not states["fail"], [r["failMsg"] for r in records if r["failMsg"]]
            if states["success"] == TASKS:
                break
            assert time.monotonic() < deadline, states
            time.sleep(0.5)
        video = httpx.get(records[0]["videoInfo"]["videoUrl"], follow_redirects=True, timeout=30)
        assert worker.terminate() == 0
        worker_log = worker.log.read_text()
        client.close()

    assert outage >= OUTAGE_S
    assert not states_during["fail"], "no task failed during the outage"
    assert video.status_code == 200 and len(video.content) > 1000
    runs = Counter(prompt for _pid, prompt in engine_runs(engine_log))
    assert runs == Counter(f"s3 task {i}" for i in range(TASKS)), "the engine ran once per task"
    assert ready.status_code == 503
    assert ready.json()["storage"].startswith("unavailable: "), ready.json()
    assert ready.json()["database"] == "ok"
    assert worker_log.count("media storage is unavailable") == 1, worker_log[-3000:]
    assert worker_log.count("media storage is available again") == 1, worker_log[-3000:]
    assert "Traceback" not in worker_log, worker_log[-3000:]
