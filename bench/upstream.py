"""Upstream overhead: a task forwarded by a front reelserve to an upstream reelserve
(`upstream:up`), against the same request sent to the upstream directly, in one run.

    .venv/bin/python -m bench.upstream [--tasks 5] [--polls 0.5,2]

Two real deployments on loopback, each `reelserve serve` with its in-process
worker in a subprocess, its own data directory and SQLite database (x264
`ultrafast` on both, tests/cluster.py):

- the upstream (tests/upstreams.UpstreamServer): every model on the synthetic
  engine;
- one front per poll interval in `--polls`: `REELSERVE_ROUTES` sends
  `nano-banana-*` and `kling-*` to `upstream:up` (`REELSERVE_UPSTREAM_UP_URL`,
  `_KEY`, `_POLL_S`: the longest wait between two polls of the upstream's
  record; polls start at a tenth of it and grow x1.5), everything else to
  `synthetic`.

Kinds: market `nano-banana-pro` (`aspect_ratio` 1:1) and market
`kling-2.6/text-to-video` (`duration` 5, no sound). After one warm-up of each
kind on every server, `--tasks` rounds per kind, one task at a time: the
request POSTed to the upstream directly (baseline), then through each front;
each timed from the POST of createTask until recordInfo (polled every 50 ms)
says `success`. For a forwarded task, the upstream task it became (the front's
`GET /api/v1/tasks/detail`, `data.upstream.taskId`) gives the upstream's own
time, created -> finished in its database; overhead = through the front minus
that. The front's time is split with both databases' timestamps (one clock):
hand-off (front created -> upstream created), upstream, tail (upstream
finished -> front finished: the wait for the poll that sees it, downloading
the file, decoding it to check it, storing it, the task's writes) and client
(the bench's POST and its 50 ms polling). The tail is split at the answer
to the front's poll that saw the upstream task succeed (the front logs each
of its HTTP requests, httpx at INFO, with millisecond times): before it the
poll wait (with that poll's own HTTP time), after it downloading, checking and
storing the file and finishing the task.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bench.common import REPO

sys.path.insert(0, str(REPO))

from tests.cluster import Cluster
from tests.upstreams import UpstreamServer

KINDS: dict[str, tuple[str, dict[str, Any]]] = {
    "image": ("nano-banana-pro", {"aspect_ratio": "1:1"}),
    "video": ("kling-2.6/text-to-video", {"duration": "5", "sound": False}),
}
ROUTES = "nano-banana-*=upstream:up;kling-*=upstream:up;*=synthetic"
POLL_EVERY_S = 0.05


def client(base_url: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=60)


def timed_task(http: httpx.Client, kind: str, n: int, timeout: float = 120) -> tuple[float, str]:
    """Seconds from the createTask POST to the recordInfo that says success; the task id."""
    model, values = KINDS[kind]
    body = {"model": model, "input": {"prompt": f"bench {kind} {n}", **values}}
    started = time.perf_counter()
    answer = http.post("/api/v1/jobs/createTask", json=body).json()
    if answer.get("code") != 200:
        raise RuntimeError(f"createTask {model}: {answer}")
    task_id = str(answer["data"]["taskId"])
    deadline = started + timeout
    while True:
        data = http.get("/api/v1/jobs/recordInfo", params={"taskId": task_id}).json()["data"]
        if data["state"] == "success":
            return time.perf_counter() - started, task_id
        if data["state"] == "fail":
            raise RuntimeError(f"task {task_id} ({model}) failed: {data}")
        if time.perf_counter() > deadline:
            raise RuntimeError(f"task {task_id} ({model}) not done within {timeout:g} s")
        time.sleep(POLL_EVERY_S)


def handed_to(http: httpx.Client, task_id: str) -> tuple[str, str]:
    """The upstream task id a front task became, and its file (`WxH, N KB`)."""
    data = http.get("/api/v1/tasks/detail", params={"taskId": task_id}).json()["data"]
    upstream = data.get("upstream") or {}
    if data.get("engine") != "upstream:up" or not upstream.get("taskId"):
        raise RuntimeError(f"task {task_id} was not served by upstream:up: {data}")
    file = next(a for a in data["artifacts"] if a["kind"] in ("image", "video"))
    return str(upstream["taskId"]), f"{file['width']}x{file['height']}, {file['bytes'] // 1024} KB"


_POLLED = re.compile(
    r"^(\S+ \S+) INFO httpx: HTTP Request: GET \S+/api/v1/jobs/recordInfo\?taskId=(\S+) "
)


def polls_answered(log: Path) -> dict[str, list[float]]:
    """Per upstream task id: when the front's polls of its record were answered (Unix s)."""
    out: dict[str, list[float]] = {}
    for line in log.read_text(errors="replace").splitlines():
        match = _POLLED.match(line)
        if match is not None:
            at = datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S,%f").timestamp()
            out.setdefault(match[2], []).append(at)
    return out


@dataclass
class Front:
    poll_s: float
    cluster: Cluster
    http: httpx.Client
    runs: dict[str, list[tuple[float, str]]] = field(default_factory=dict)
    """Per kind: (seconds through the front, front task id)."""


def start_front(root: Path, up: UpstreamServer, poll_s: float) -> Front:
    root.mkdir(parents=True)
    cluster = Cluster(
        root,
        f"sqlite+aiosqlite:///{root / 'front.db'}",
        REELSERVE_ALLOW_PRIVATE_URLS="true",
        REELSERVE_WORKER_POLL_S="0.2",
        REELSERVE_ROUTES=ROUTES,
        REELSERVE_UPSTREAM_UP_URL=up.base_url,
        REELSERVE_UPSTREAM_UP_KEY=up.key,
        REELSERVE_UPSTREAM_UP_POLL_S=f"{poll_s:g}",
    )
    key = cluster.create_key("bench")
    cluster.start_api(worker=True)
    return Front(poll_s, cluster, client(cluster.base_url, key))


def quantiles(values: list[float]) -> tuple[float, float]:
    """Median and p90 (linear interpolation between the closest ranks)."""
    if len(values) == 1:
        return values[0], values[0]
    return statistics.median(values), statistics.quantiles(values, n=10, method="inclusive")[8]


def fmt(values: list[float]) -> str:
    p50, p90 = quantiles(values)
    return f"{p50 * 1000:6.0f} / {p90 * 1000:6.0f} ms"


def report(kind: str, direct: list[tuple[float, str]], fronts: list[Front], up_rows: Any) -> None:
    own_direct = [up_rows[t]["finished_at"] - up_rows[t]["created_at"] for _, t in direct]
    direct_s = [s for s, _ in direct]
    print(f"\n{kind} ({KINDS[kind][0]}), {len(direct)} tasks, median / p90:")
    print(f"  direct to the upstream        {fmt(direct_s)}   (its own time {fmt(own_direct)})")
    for front in fronts:
        rows = {r["id"]: r for r in front.cluster.task_rows()}
        polled = polls_answered(front.cluster.root / "api.log")
        through, own, overhead, handoff, tail, client_s = [], [], [], [], [], []
        waits, fetches, counts = [], [], []
        for seconds, task_id in front.runs[kind]:
            mine = rows[task_id]
            their_id, file = handed_to(front.http, task_id)
            theirs = up_rows[their_id]
            up_s = theirs["finished_at"] - theirs["created_at"]
            through.append(seconds)
            own.append(up_s)
            overhead.append(seconds - up_s)
            handoff.append(theirs["created_at"] - mine["created_at"])
            tail.append(mine["finished_at"] - theirs["finished_at"])
            seen = max(polled[their_id])  # the last poll: the one that saw success
            waits.append(seen - theirs["finished_at"])
            fetches.append(mine["finished_at"] - seen)
            counts.append(len(polled[their_id]))
            client_s.append(seconds - (mine["finished_at"] - mine["created_at"]))
        ratio = statistics.median(through) / statistics.median(direct_s)
        print(
            f"  through the front, poll {front.poll_s:g} s {fmt(through)}   "
            f"upstream's own {fmt(own)}   overhead {fmt(overhead)}   "
            f"front/direct x{ratio:.2f}"
        )
        print(
            f"    split (medians): hand-off {statistics.median(handoff) * 1000:.0f} ms, "
            f"tail {statistics.median(tail) * 1000:.0f} ms "
            f"= poll wait {statistics.median(waits) * 1000:.0f} ms "
            f"+ download, check, store {statistics.median(fetches) * 1000:.0f} ms ({file}); "
            f"client {statistics.median(client_s) * 1000:.0f} ms; "
            f"{statistics.median(counts):.0f} polls of the upstream per task"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=5, help="tasks per kind and server")
    parser.add_argument("--polls", default="0.5,2", help="front poll intervals (POLL_S), comma")
    args = parser.parse_args()
    polls = [float(p) for p in args.polls.split(",") if p.strip()]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-upstream-") as tmp:
        root = Path(tmp)
        with UpstreamServer(root / "up") as up:
            fronts: list[Front] = []
            direct_http = client(up.base_url, up.key)
            try:
                for poll_s in polls:
                    fronts.append(start_front(root / f"front-{poll_s:g}", up, poll_s))
                for kind in KINDS:  # warm-up: each kind once on every server
                    timed_task(direct_http, kind, -1)
                    for front in fronts:
                        timed_task(front.http, kind, -1)
                direct: dict[str, list[tuple[float, str]]] = {kind: [] for kind in KINDS}
                for kind in KINDS:
                    for n in range(args.tasks):
                        direct[kind].append(timed_task(direct_http, kind, n))
                        for front in fronts:
                            front.runs.setdefault(kind, []).append(timed_task(front.http, kind, n))
                up_rows = {r["id"]: r for r in up.task_rows()}
                print(
                    f"upstream overhead: {args.tasks} tasks per kind and server, one at a time, "
                    f"loopback, x264 ultrafast, client polls every {POLL_EVERY_S * 1000:.0f} ms"
                )
                for kind in KINDS:
                    report(kind, direct[kind], fronts, up_rows)
            finally:
                direct_http.close()
                for front in fronts:
                    front.http.close()
                    front.cluster.stop()
    print(f"\n({time.monotonic() - started:.0f} s in all)")


if __name__ == "__main__":
    main()
