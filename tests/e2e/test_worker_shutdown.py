"""`reelserve worker` shutdown: SIGTERM finishes or gives back the task in hand within
the grace period and exits 0; a task is never left running. `reelserve workers`
shows what each worker runs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cluster import Cluster
from tests.databases import database_url

SLOW = "slow=tests.engines_for_tests:SlowSyntheticEngine"


@pytest.fixture
def db(backend: str, tmp_path: Path) -> Iterator[str]:
    with database_url(backend, tmp_path / "data") as url:
        yield url


def submit(cluster: Cluster, key: str, prompt: str) -> str:
    body = {
        "model": "synthetic/text-to-video",
        "input": {"prompt": prompt, "duration": 5, "resolution": "360p"},
    }
    answer = httpx.post(
        cluster.base_url + "/api/v1/jobs/createTask",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    ).json()
    assert answer["code"] == 200, answer
    return str(answer["data"]["taskId"])


def row(cluster: Cluster, task_id: str) -> dict[str, object]:
    return next(r for r in cluster.task_rows() if r["id"] == task_id)


def wait_running(cluster: Cluster, task_id: str, engine_log: Path, timeout: float = 60) -> None:
    """Until the task is claimed and its engine has started."""
    deadline = time.monotonic() + timeout
    while not (
        row(cluster, task_id)["status"] == "running"
        and engine_log.exists()
        and engine_log.read_text().strip()
    ):
        assert time.monotonic() < deadline, row(cluster, task_id)
        time.sleep(0.05)


@pytest.mark.timeout(180)
def test_sigterm_past_the_grace_period_gives_the_task_back_and_exits_0(
    tmp_path: Path, db: str
) -> None:
    engine_log = tmp_path / "engine.log"
    grace = 1.0
    with Cluster(
        tmp_path,
        db,
        REELSERVE_ENGINE_PLUGINS=SLOW,
        REELSERVE_ENGINES="slow",
        REELSERVE_TEST_ENGINE_LOG=str(engine_log),
        REELSERVE_WORKER_HEARTBEAT_S="0.5",
        # 120 frames at 100 ms: 12 s, far past the grace period even when the `workers`
        # command below takes seconds on a loaded machine (25 ms frames finished in CI).
        REELSERVE_TEST_SLOW_FRAME_S="0.1",
    ) as cluster:
        key = cluster.create_key("term")
        cluster.start_api()
        worker = cluster.start_worker("--engine", "slow", REELSERVE_WORKER_GRACE_S=str(grace))
        task_id = submit(cluster, key, "given back")
        wait_running(cluster, task_id, engine_log)

        listing = cluster.run_cli("workers")
        assert task_id in listing and "slow" in listing and "alive" in listing, listing
        assert f":{worker.pid}:" in listing, listing

        started = time.monotonic()
        assert worker.terminate(timeout=30) == 0, worker.tail()
        # The engine would take 12 s: it stopped at the grace period instead.
        assert time.monotonic() - started < grace + 2.5, worker.tail()
        back = row(cluster, task_id)
        assert back["status"] == "queued", back
        assert back["lease_token"] is None and back["worker_id"] is None
        assert back["attempts"] == 0  # a shutdown does not use up an attempt
        assert "no workers" in cluster.run_cli("workers")  # its row went with it

        # The next worker runs it from the start (at full speed).
        cluster.start_worker("--engine", "slow", REELSERVE_TEST_SLOW_FRAME_S="0.001")
        deadline = time.monotonic() + 60
        while row(cluster, task_id)["status"] != "succeeded":
            assert time.monotonic() < deadline, row(cluster, task_id)
            time.sleep(0.1)
        assert row(cluster, task_id)["attempts"] == 1
        assert len(engine_log.read_text().splitlines()) == 2


@pytest.mark.timeout(180)
def test_sigterm_within_the_grace_period_finishes_the_task_and_claims_no_more(
    tmp_path: Path, db: str
) -> None:
    engine_log = tmp_path / "engine.log"
    with Cluster(
        tmp_path,
        db,
        REELSERVE_ENGINE_PLUGINS=SLOW,
        REELSERVE_ENGINES="slow",
        REELSERVE_TEST_ENGINE_LOG=str(engine_log),
    ) as cluster:
        key = cluster.create_key("term")
        cluster.start_api()
        worker = cluster.start_worker("--engine", "slow", REELSERVE_WORKER_GRACE_S="60")
        first = submit(cluster, key, "finished")
        wait_running(cluster, first, engine_log)
        second = submit(cluster, key, "left queued")

        assert worker.terminate(timeout=60) == 0, worker.tail()
        done = row(cluster, first)
        assert done["status"] == "succeeded" and done["attempts"] == 1, done
        waiting = row(cluster, second)
        assert waiting["status"] == "queued" and waiting["attempts"] == 0, waiting
        assert len(engine_log.read_text().splitlines()) == 1
        assert not [r for r in cluster.task_rows() if r["status"] == "running"]


def test_a_worker_for_an_unknown_engine_refuses_to_start_naming_the_known_ones(
    tmp_path: Path,
) -> None:
    import subprocess
    import sys

    from tests.cluster import REPO

    done = subprocess.run(
        [sys.executable, "-m", "reelserve", "worker", "--engine", "nope"],
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(REPO),
            "REELSERVE_DATA_DIR": str(tmp_path / "data"),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "unknown engine 'nope'" in done.stderr and "synthetic" in done.stderr, done.stderr
