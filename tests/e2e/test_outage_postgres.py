"""PostgreSQL stopped for 15 s while a `reelserve worker` renders (a cluster of this test's
own, stopped with pg_ctl): the worker process stays alive, every accepted task succeeds
once the database is back, each callback is delivered once, and the API answers the
temporary-unavailable code meanwhile with one log line for the outage, not a traceback per
request; `/readyz` answers 503 naming the database meanwhile and 200 once it is back."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.cluster import Cluster
from tests.e2e.test_scale_out import engine_runs
from tests.pg_cluster import PrivatePostgres
from tests.receivers import Receiver

OUTAGE_S = 15
TASKS = 6


@pytest.mark.timeout(240)
def test_a_worker_survives_a_15_s_database_outage_and_every_task_succeeds_once(
    tmp_path: Path,
) -> None:
    engine_log = tmp_path / "engine.log"
    with (
        PrivatePostgres() as pg,
        Receiver() as rx,
        Cluster(
            tmp_path,
            pg.url,
            REELSERVE_ENGINE_PLUGINS="slow=tests.engines_for_tests:SlowSyntheticEngine",
            REELSERVE_ENGINES="slow",
            REELSERVE_TEST_ENGINE_LOG=str(engine_log),
            REELSERVE_ALLOW_PRIVATE_URLS="true",
            REELSERVE_CALLBACK_TIMEOUT_S="5",
            REELSERVE_WORKER_POLL_S="0.5",
        ) as cluster,
    ):
        key = cluster.create_key("k")
        api = cluster.start_api()
        worker = cluster.start_worker("--concurrency", "2")
        cluster.wait_for_workers(1)
        client = httpx.Client(
            base_url=cluster.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        )
        callback = rx.url("/cb")

        def submit(i: int) -> httpx.Response:
            body = {
                "prompt": f"outage task {i}",
                "duration": 5,
                "quality": "720p",
                "aspectRatio": "16:9",
                "callBackUrl": callback,
            }
            return client.post("/api/v1/runway/generate", json=body)

        ids = [submit(i).json()["data"]["taskId"] for i in range(TASKS)]
        # Stop the database while both slots render (each render takes ~3 s): their
        # results are ready during the outage.
        deadline = time.monotonic() + 60
        while len(engine_runs(engine_log)) < 2:
            assert time.monotonic() < deadline, "the worker never started rendering"
            time.sleep(0.05)
        pg.stop()
        stopped = time.monotonic()
        during: list[dict[str, object]] = []
        try:
            time.sleep(2)  # past the API key cache
            while time.monotonic() - stopped < OUTAGE_S:
                during.append(
                    client.get("/api/v1/runway/record-detail", params={"taskId": ids[0]}).json()
                )
                during.append(submit(99).json())
                time.sleep(0.5)
            ready = client.get("/readyz")
            assert worker.alive(), worker.tail()
        finally:
            pg.start()
        outage = time.monotonic() - stopped

        deadline = time.monotonic() + 90
        while True:
            records = [
                client.get("/api/v1/runway/record-detail", params={"taskId": t}).json() for t in ids
            ]
            states = Counter(r["data"]["state"] for r in records if r["code"] == 200)
            if states["success"] == TASKS:
                break
            assert not states["fail"], records
            assert worker.alive(), worker.tail()
            assert time.monotonic() < deadline, states
            time.sleep(0.3)

        deadline = time.monotonic() + 30
        while len(rx.received("/cb")) < TASKS:
            assert time.monotonic() < deadline, f"{len(rx.received('/cb'))} callbacks arrived"
            time.sleep(0.2)
        time.sleep(2)  # a duplicate would arrive now
        bodies = [json.loads(r.body) for r in rx.received("/cb")]
        # Ready again once the outage has ended (it ends after 2 s without a failure).
        deadline = time.monotonic() + 15
        while (ready_again := client.get("/readyz")).status_code != 200:
            assert time.monotonic() < deadline, ready_again.json()
            time.sleep(0.5)
        assert worker.alive(), worker.tail()
        assert worker.terminate() == 0
        api_log = api.log.read_text()
        worker_log = worker.log.read_text()
        client.close()

    assert outage >= OUTAGE_S
    assert Counter(b["data"]["task_id"] for b in bodies) == Counter(ids), "one callback each"
    assert all(b["code"] == 200 and b["data"]["video_url"] for b in bodies)
    # Every accepted task rendered once: the outage cost no attempt.
    assert Counter(prompt for _pid, prompt in engine_runs(engine_log)) == Counter(
        f"outage task {i}" for i in range(TASKS)
    )

    assert during, "no request was made during the outage"
    assert {answer["code"] for answer in during} == {503}, during
    assert {answer["msg"] for answer in during} == {"service temporarily unavailable, try again"}
    assert ready.status_code == 503
    assert ready.json()["database"].startswith("unavailable: "), ready.json()
    assert ready.json()["status"] == "unavailable"
    assert ready_again.json() == {"status": "ready", "database": "ok", "storage": "ok"}
    assert api_log.count("the database is unavailable") == 1, api_log[-3000:]
    assert api_log.count("the database is available again") == 1, api_log[-3000:]
    assert f"{len(during)} request(s) answered 503" in api_log
    assert "Traceback" not in api_log, api_log[-3000:]
    assert "Traceback" not in worker_log, worker_log[-3000:]
    assert worker_log.count("the database is unavailable") == 1, worker_log[-3000:]
