"""API overhead against a bare FastAPI endpoint, measured in the same run.

    .venv/bin/python -m bench.api [--duration 10] [--connections 50]

Runs `reelserve serve --no-worker` (SQLite, embedded defaults) and a bare
FastAPI JSON app under the same uvicorn, loads each with wrk (loopback only,
bounded time) and prints requests/s, p50/p99 and the ratios to the baseline.
Then times a 5 s 720p synthetic task from submit to success on a server with
its worker. Needs `wrk` (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import WrkResult, create_key, start_bare, start_reelserve, stop, wrk

GENERATE = {
    "prompt": "A lighthouse at dawn",
    "duration": 5,
    "quality": "720p",
    "aspectRatio": "16:9",
}


def measure_api(connections: int, duration_s: int) -> dict[str, WrkResult]:
    results: dict[str, WrkResult] = {}
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        key = create_key(data_dir)
        auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        server, base = start_reelserve(data_dir, "--no-worker")
        bare, bare_base = start_bare()
        try:
            task_id = httpx.post(
                base + "/api/v1/runway/generate", json=GENERATE, headers=auth
            ).json()["data"]["taskId"]
            body = json.dumps(GENERATE)
            # Warm both servers up before measuring.
            wrk(
                bare_base + "/bare",
                method="POST",
                body=body,
                headers=auth,
                connections=connections,
                duration_s=2,
            )
            wrk(
                base + "/api/v1/runway/generate",
                method="POST",
                body=body,
                headers=auth,
                connections=connections,
                duration_s=2,
            )
            results["bare POST"] = wrk(
                bare_base + "/bare",
                method="POST",
                body=body,
                headers=auth,
                connections=connections,
                duration_s=duration_s,
            )
            results["generate"] = wrk(
                base + "/api/v1/runway/generate",
                method="POST",
                body=body,
                headers=auth,
                connections=connections,
                duration_s=duration_s,
            )
            results["bare GET"] = wrk(
                bare_base + "/bare", headers=auth, connections=connections, duration_s=duration_s
            )
            results["record-detail"] = wrk(
                f"{base}/api/v1/runway/record-detail?taskId={task_id}",
                headers=auth,
                connections=connections,
                duration_s=duration_s,
            )
            for name, r in results.items():
                print(f"  {name:<14} {r.line()}", flush=True)
            check = httpx.get(
                f"{base}/api/v1/runway/record-detail", params={"taskId": task_id}, headers=auth
            ).json()
            assert check["code"] == 200, check
        finally:
            stop(server)
            stop(bare)
    return results


def measure_task(runs: int = 3) -> list[float]:
    """Seconds from POST generate to record-detail saying success, 5 s 720p synthetic."""
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        key = create_key(data_dir)
        server, base = start_reelserve(data_dir, REELSERVE_WORKER_POLL_S="1")
        headers = {"Authorization": f"Bearer {key}"}
        try:
            with httpx.Client(base_url=base, headers=headers) as client:
                for i in range(runs + 1):
                    start = time.perf_counter()
                    body = {**GENERATE, "prompt": f"{GENERATE['prompt']} #{i}"}
                    task = client.post("/api/v1/runway/generate", json=body).json()["data"][
                        "taskId"
                    ]
                    while True:
                        state = client.get(
                            "/api/v1/runway/record-detail", params={"taskId": task}
                        ).json()["data"]["state"]
                        if state in ("success", "fail"):
                            break
                        time.sleep(0.02)
                    assert state == "success"
                    if i:  # the first run loads the engine and warms caches
                        times.append(time.perf_counter() - start)
        finally:
            stop(server)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--task-runs", type=int, default=3)
    args = parser.parse_args()

    print(
        f"wrk, {args.connections} connections, {args.duration} s each, "
        "one uvicorn process per server"
    )
    results = measure_api(args.connections, args.duration)
    gen_ratio = results["generate"].rps / results["bare POST"].rps
    rd_ratio = results["record-detail"].rps / results["bare GET"].rps
    print(
        f"generate      / bare POST: {gen_ratio:5.1%}  (target >= 40%, p99 < 100 ms: "
        f"{'PASS' if gen_ratio >= 0.4 and results['generate'].p99_ms < 100 else 'FAIL'})"
    )
    print(
        f"record-detail / bare GET : {rd_ratio:5.1%}  (target >= 60%, p99 < 50 ms: "
        f"{'PASS' if rd_ratio >= 0.6 and results['record-detail'].p99_ms < 50 else 'FAIL'})"
    )
    times = measure_task(args.task_runs)
    median = statistics.median(times)
    print(
        f"5 s 720p synthetic task, submit -> success: median {median:.2f} s over {len(times)} runs "
        f"({', '.join(f'{t:.2f}' for t in times)}) "
        f"(target < 3 s: {'PASS' if median < 3 else 'FAIL'})"
    )


if __name__ == "__main__":
    main()
