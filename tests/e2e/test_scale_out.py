"""Scale-out on PostgreSQL: one API process, three `reelserve worker` processes,
300 short tasks, one worker SIGKILLed mid-run. Nothing is lost, every result is
written once, only the killed worker's tasks run twice, every callback arrives.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.cluster import Cluster
from tests.databases import create_pg_database, drop_pg_database
from tests.receivers import Receiver, dedupe_by_webhook_id

TASKS = 300
LEASE_S = 3


@pytest.fixture
def pg_url() -> Iterator[str]:
    name, url = create_pg_database()
    yield url
    drop_pg_database(name)


def engine_runs(log: Path) -> list[tuple[int, str]]:
    """(pid, prompt) of every engine run, in order."""
    out = []
    for line in log.read_text().splitlines() if log.exists() else []:
        _event, pid, prompt = line.split(" ", 2)
        out.append((int(pid), prompt))
    return out


@pytest.mark.timeout(300)
def test_three_workers_and_one_killed_lose_nothing_and_write_every_result_once(
    tmp_path: Path, pg_url: str
) -> None:
    engine_log = tmp_path / "engine.log"
    with (
        Receiver() as rx,
        Cluster(
            tmp_path,
            pg_url,
            REELSERVE_ENGINE_PLUGINS="logged=tests.engines_for_tests:LoggedSyntheticEngine",
            REELSERVE_ENGINES="logged",
            REELSERVE_TEST_ENGINE_LOG=str(engine_log),
            REELSERVE_LEASE_S=str(LEASE_S),
            REELSERVE_ALLOW_PRIVATE_URLS="true",
            REELSERVE_CALLBACK_TIMEOUT_S="5",
            # Workers must be woken by NOTIFY: a poll this slow would miss the deadline.
            REELSERVE_WORKER_POLL_S="5",
        ) as cluster,
    ):
        key = cluster.create_key("scale")
        cluster.start_api()
        workers = [
            cluster.start_worker("--engine", "logged", "--concurrency", "2") for _ in range(3)
        ]
        cluster.wait_for_workers(3)
        callback = rx.url("/cb")
        client = httpx.Client(
            base_url=cluster.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        )

        def submit(i: int) -> str:
            body = {
                "model": "synthetic/text-to-video",
                "callBackUrl": callback,
                "input": {"prompt": f"scale task {i}", "duration": 1, "resolution": "360p"},
            }
            answer = client.post("/api/v1/jobs/createTask", json=body).json()
            assert answer["code"] == 200, answer
            return str(answer["data"]["taskId"])

        with ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(submit, range(TASKS)))
        prompt_of = {task_id: f"scale task {i}" for i, task_id in enumerate(ids)}

        # Kill a worker once it has done some work and holds a task right now.
        victim = workers[0]
        marker = f":{victim.pid}:"
        deadline = time.monotonic() + 60
        while True:
            started = [prompt for pid, prompt in engine_runs(engine_log) if pid == victim.pid]
            running_now = {
                prompt_of[r["id"]]
                for r in cluster.task_rows()
                if r["status"] == "running" and marker in (r["worker_id"] or "")
            }
            if len(started) >= 5 and running_now & set(started):
                break
            assert time.monotonic() < deadline, "the victim never got to work"
            time.sleep(0.05)
        victim.kill()
        held = {
            r["id"]
            for r in cluster.task_rows()
            if r["status"] == "running" and marker in (r["worker_id"] or "")
        }
        assert held, "the killed worker held no task"

        deadline = time.monotonic() + 180
        while True:
            rows = cluster.task_rows()
            states = Counter(r["status"] for r in rows)
            if states["succeeded"] == TASKS:
                break
            assert not states["failed"], [r["fail_msg"] for r in rows if r["fail_msg"]]
            assert time.monotonic() < deadline, states
            for w in workers[1:]:
                assert w.alive(), w.tail()
            time.sleep(0.5)

        rows_by_id = {r["id"]: r for r in rows}
        assert set(rows_by_id) == set(ids)  # none lost, none invented
        for task_id, row in rows_by_id.items():
            assert row["result"] is not None
            assert row["attempts"] == (2 if task_id in held else 1), (task_id, row["attempts"])
            video = cluster.data_dir / "blobs" / row["result"]["video_key"]
            assert video.stat().st_size > 0

        # The engine's own log: repeated runs only for what the killed worker held;
        # each of those ran once more on a survivor (the victim may have been killed
        # after claiming one but before its engine started).
        log = engine_runs(engine_log)
        runs = Counter(prompt for _, prompt in log)
        by_survivors = Counter(prompt for pid, prompt in log if pid != victim.pid)
        by_victim = Counter(prompt for pid, prompt in log if pid == victim.pid)
        repeated = {t for t in ids if runs[prompt_of[t]] > 1}
        assert repeated <= held, repeated - held
        assert all(runs[prompt_of[t]] == 1 for t in ids if t not in held)
        assert all(by_survivors[prompt_of[t]] == 1 for t in held)
        assert all(by_victim[prompt_of[t]] <= 1 for t in held)

        # One result written per task: the outbox row is inserted by the (lease-checked)
        # write that records the result, so one delivery row per task means one write.
        per_task = Counter(d["task_id"] for d in cluster.delivery_rows())
        assert per_task == Counter(ids)

        # Every callback arrived (a receiver deduping on webhook-id keeps one per task).
        # Those the killed worker was sending go again when their lease lapses
        # (REELSERVE_CALLBACK_TIMEOUT_S 5 s: a 15 s lease).
        deadline = time.monotonic() + 90
        while True:
            kept = dedupe_by_webhook_id(rx.received("/cb"))
            if len(kept) >= TASKS:
                break
            assert time.monotonic() < deadline, f"{len(kept)} of {TASKS} callbacks arrived"
            time.sleep(0.2)
        bodies = [json.loads(r.body) for r in kept.values()]
        assert sorted(b["data"]["taskId"] for b in bodies) == sorted(ids)
        assert all(b["code"] == 200 and b["data"]["state"] == "success" for b in bodies)

        # The survivors stop cleanly.
        assert [w.terminate() for w in workers[1:]] == [0, 0]
        client.close()
