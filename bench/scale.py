"""Scale-out: tasks/s with 1, 2 and 4 `reelserve worker` processes, and queued -> claimed
latency, on PostgreSQL (LISTEN/NOTIFY, and poll-only as the baseline) and on SQLite.

Every run is a real deployment on this machine: one `reelserve serve --no-worker`
API process and N worker processes (concurrency 1 each) sharing a fresh
database and data directory. Tasks are the short ones of the scale-out test:
market `synthetic/text-to-video`, `duration: 1`, `resolution: 360p`.

- tasks/s: TASKS tasks submitted at once; from the first task's creation to the
  last one's finish (database timestamps). Ratio against 1 worker on the same
  backend, measured in the same run.
- latency: tasks submitted one at a time to idle workers (each waits until the
  previous one finished), `started_at - created_at` of each; p50/p99. Ratio
  against PostgreSQL with polling only (REELSERVE_LISTEN_NOTIFY=false), where a
  worker finds a task only at its next poll (REELSERVE_WORKER_POLL_S, 1 s).

Needs PostgreSQL: REELSERVE_TEST_DATABASE_URL (as `./scripts/test` exports it), e.g.

    REELSERVE_TEST_DATABASE_URL=postgresql://reelserve@127.0.0.1:5432/postgres \\
        .venv/bin/python -m bench.scale --tasks 60
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.common import REPO

sys.path.insert(0, str(REPO))

from tests.cluster import Cluster
from tests.databases import create_pg_database, drop_pg_database


@contextmanager
def fresh_database(backend: str, root: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{root / 'data' / 'reelserve.db'}"
        return
    name, url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(name)


def submitter(cluster: Cluster, key: str) -> httpx.Client:
    return httpx.Client(
        base_url=cluster.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=60
    )


def submit(client: httpx.Client, i: int) -> str:
    body = {
        "model": "synthetic/text-to-video",
        "input": {"prompt": f"bench {i}", "duration": 1, "resolution": "360p"},
    }
    answer = client.post("/api/v1/jobs/createTask", json=body).json()
    assert answer["code"] == 200, answer
    return str(answer["data"]["taskId"])


def wait_done(cluster: Cluster, count: int, timeout: float = 600) -> list[dict[str, object]]:
    deadline = time.monotonic() + timeout
    while True:
        rows = cluster.task_rows()
        if sum(r["status"] == "succeeded" for r in rows) >= count:
            return rows
        if any(r["status"] == "failed" for r in rows):
            raise RuntimeError("a task failed")
        if time.monotonic() > deadline:
            raise RuntimeError("tasks did not finish")
        time.sleep(0.2)


def throughput(backend: str, workers: int, tasks: int) -> float:
    with (
        tempfile.TemporaryDirectory(prefix="reelserve-scale-") as tmp,
        fresh_database(backend, Path(tmp)) as url,
        Cluster(Path(tmp), url) as cluster,
    ):
        key = cluster.create_key("bench")
        cluster.start_api()
        for _ in range(workers):
            cluster.start_worker()
        cluster.wait_for_workers(workers)
        with submitter(cluster, key) as client, ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i: submit(client, i), range(tasks)))
        rows = wait_done(cluster, tasks)
        first = min(float(r["created_at"]) for r in rows)  # type: ignore[arg-type]
        last = max(float(r["finished_at"]) for r in rows)  # type: ignore[arg-type]
        return tasks / (last - first)


def latency(backend: str, samples: int, **env: str) -> list[float]:
    """queued -> claimed of tasks submitted one at a time to two idle workers, in ms."""
    with (
        tempfile.TemporaryDirectory(prefix="reelserve-scale-") as tmp,
        fresh_database(backend, Path(tmp)) as url,
        Cluster(Path(tmp), url, **env) as cluster,
    ):
        key = cluster.create_key("bench")
        cluster.start_api()
        for _ in range(2):
            cluster.start_worker()
        cluster.wait_for_workers(2)
        with submitter(cluster, key) as client:
            for i in range(samples):
                submit(client, i)
                wait_done(cluster, i + 1)
        rows = cluster.task_rows()
        return [
            1000 * (float(r["started_at"]) - float(r["created_at"]))  # type: ignore[arg-type]
            for r in rows
        ]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=60, help="tasks per throughput run")
    parser.add_argument("--workers", default="1,2,4", help="worker process counts")
    parser.add_argument("--samples", type=int, default=40, help="tasks per latency run")
    args = parser.parse_args()
    if not os.environ.get("REELSERVE_TEST_DATABASE_URL"):
        sys.exit("set REELSERVE_TEST_DATABASE_URL to a PostgreSQL superuser URL")
    counts = [int(n) for n in args.workers.split(",")]
    print(f"{os.cpu_count()} CPUs; {args.tasks} tasks (synthetic, 1 s, 360p) per run")

    print("\n== tasks/s by worker processes (ratio: against 1 worker, same backend)")
    for backend in ("postgres", "sqlite"):
        base = None
        for n in counts:
            rate = throughput(backend, n, args.tasks)
            base = base or rate
            print(f"{backend:9} {n} worker(s): {rate:6.2f} tasks/s  x{rate / base:.2f}")

    print("\n== queued -> claimed, idle workers (ratio: against PostgreSQL polling only)")
    runs = {
        "postgres, polling only": latency(
            "postgres", args.samples, REELSERVE_LISTEN_NOTIFY="false"
        ),
        "postgres, LISTEN/NOTIFY": latency("postgres", args.samples),
        "sqlite (polling)": latency("sqlite", args.samples),
    }
    base50 = statistics.median(runs["postgres, polling only"])
    for name, values in runs.items():
        p50, p99 = statistics.median(values), pct(values, 0.99)
        print(f"{name:24} p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  p50 x{p50 / base50:.3f}")


if __name__ == "__main__":
    main()
