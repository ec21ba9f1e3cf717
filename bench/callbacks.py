"""Callback delivery: latency, throughput and head-of-line isolation, in one run.

    .venv/bin/python -m bench.callbacks [--tasks 20] [--deliveries 2000] [--healthy 100]

Loopback only, bounded counts and times, stops by itself (about a minute).
Receivers are a raw ASGI app (this module's `receiver_app`) under uvicorn
(uvloop + httptools), each in its own process, answering 200 at once and
recording `time.time()` at arrival per `webhook-id`. reelserve runs as
`reelserve serve` subprocesses on fresh temporary data dirs
(REELSERVE_ALLOW_PRIVATE_URLS=true so loopback receivers are allowed,
REELSERVE_X264_PRESET=ultrafast, REELSERVE_WORKER_POLL_S=0.05,
REELSERVE_CALLBACK_TIMEOUT_S left at its default of 15 s).

1. Completion -> callback received: submits Runway generate tasks with a
   callBackUrl to a server with its worker; per task, the receiver's arrival
   time minus the task's `finished_at` read from the database afterwards
   (same machine, same clock).
2. Deliveries/s: inserts N deliveries into the database of a stopped server,
   starts `reelserve serve --no-worker` and counts arrivals; the rate is
   measured from the first to the last arrival (the wall time from process
   start, which includes Python start-up, is printed too). The receiver alone
   is loaded with wrk first, to show it is not the bottleneck. If not all
   have arrived after STALL_S, it says so, with whether /healthz still answers
   and the server's CPU use, and stops the server.
3. Hanging receiver: the latency (delivery row inserted -> arrival) of
   redeliveries to the healthy receiver, alone, then again while deliveries
   to a receiver that never answers within the 15 s timeout are in flight.
   The hanging receiver listens on 127.0.0.2 (another host, as another
   customer's receiver would be); with --same-host it also measures a
   hanging receiver on 127.0.0.1 (another port of the healthy one's host;
   adds about 20 s). The server's CPU use is printed for each window.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from bench.common import REPO, create_key, free_port, reelserve_env, wait_up

GENERATE = {
    "prompt": "A lighthouse at dawn",
    "duration": 5,
    "quality": "720p",
    "aspectRatio": "16:9",
}
SERVER_ENV = {
    "REELSERVE_ALLOW_PRIVATE_URLS": "true",
    "REELSERVE_X264_PRESET": "ultrafast",
    "REELSERVE_WORKER_POLL_S": "0.05",
}
STALL_S = 30.0  # part 2 gives up waiting after this long
HANG_S = 60.0  # longer than the server's 15 s callback timeout: never answers in time

# --------------------------------------------------------------------------
# The receiver (runs in its own uvicorn process: bench.callbacks:receiver_app)
# --------------------------------------------------------------------------

_arrivals: list[tuple[str, float, bytes]] = []
_hang = {"in_flight": 0, "total": 0}


async def _respond(send: Any, status: int, body: bytes, ctype: bytes = b"text/plain") -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", ctype), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def receiver_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers POST /cb with 200 at once, recording (webhook-id, arrival time, body);
    POST /hang sleeps HANG_S first; GET /stats and /arrivals report; POST /reset clears."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    now = time.time()
    path = scope["path"]
    if scope["method"] == "POST":
        chunks = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        if path == "/hang":
            _hang["in_flight"] += 1
            _hang["total"] += 1
            try:
                await asyncio.sleep(HANG_S)
            finally:
                _hang["in_flight"] -= 1
        elif path == "/reset":
            _arrivals.clear()
        else:
            webhook_id = ""
            for name, value in scope["headers"]:
                if name == b"webhook-id":
                    webhook_id = value.decode()
            _arrivals.append((webhook_id, now, b"".join(chunks)))
        await _respond(send, 200, b"ok")
    elif path == "/stats":
        stats = {"count": len(_arrivals), **_hang}
        await _respond(send, 200, json.dumps(stats).encode(), b"application/json")
    elif path == "/arrivals":
        out = []
        for webhook_id, at, body in _arrivals:
            try:
                task_id = json.loads(body)["data"]["task_id"]
            except (ValueError, KeyError, TypeError):
                task_id = ""
            out.append([webhook_id, at, task_id])
        await _respond(send, 200, json.dumps(out).encode(), b"application/json")
    else:
        await _respond(send, 404, b"not found")


# --------------------------------------------------------------------------
# Subprocesses, always cleaned up
# --------------------------------------------------------------------------

_procs: list[subprocess.Popen[bytes]] = []


def _spawn(args: list[str], env: dict[str, str], log: Path | None) -> subprocess.Popen[bytes]:
    err = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
    try:
        proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=err)
    finally:
        if log:
            err.close()  # type: ignore[union-attr]
    _procs.append(proc)
    return proc


def _end(proc: subprocess.Popen[bytes], grace_s: float = 20) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    with contextlib.suppress(ValueError):
        _procs.remove(proc)


def _end_all() -> None:
    for proc in list(_procs):
        _end(proc, grace_s=3)


class Receiver:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.port = free_port()
        self.base = f"http://{host}:{self.port}"
        self.proc = _spawn(
            [
                sys.executable, "-m", "uvicorn", "bench.callbacks:receiver_app",
                "--host", host, "--port", str(self.port),
                "--loop", "uvloop", "--http", "httptools",
                "--log-level", "warning", "--no-access-log",
            ],
            dict(os.environ),
            None,
        )  # fmt: skip
        wait_up(self.base + "/stats", self.proc)
        self.client = httpx.Client(base_url=self.base, timeout=10)

    def stats(self) -> dict[str, int]:
        return self.client.get("/stats").json()  # type: ignore[no-any-return]

    def arrivals(self) -> list[tuple[str, float, str]]:
        return [tuple(a) for a in self.client.get("/arrivals").json()]  # type: ignore[misc]

    def reset(self) -> None:
        self.client.post("/reset")

    def wait(self, key: str, n: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.stats()[key] >= n:
                return True
            time.sleep(0.05)
        return False

    def close(self) -> None:
        self.client.close()
        _end(self.proc, grace_s=2)


@contextlib.contextmanager
def reelserve(
    data_dir: Path, *args: str, wait: bool = True
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    proc = _spawn(
        [sys.executable, "-m", "reelserve", "serve", "--port", str(port), *args],
        reelserve_env(data_dir, port, **SERVER_ENV),
        data_dir.parent / "server.log",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        if wait:
            wait_up(base + "/healthz", proc)
        yield base, proc
    finally:
        _end(proc, grace_s=5)


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_share(pid: int, seconds: float) -> float:
    """The share of one core a process uses over the next `seconds`."""
    before = cpu_s(pid)
    time.sleep(seconds)
    return (cpu_s(pid) - before) / seconds


def responsive(base: str) -> bool:
    try:
        return httpx.get(base + "/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


# --------------------------------------------------------------------------
# Database access (same data dir as the server, from this process)
# --------------------------------------------------------------------------


def _db(data_dir: Path, fn: Any) -> Any:
    from reelserve.settings import Settings
    from reelserve.store.store import Store

    async def run() -> Any:
        store = Store(Settings(data_dir=data_dir).resolved_database_url, read_cache_s=0)
        await store.open()
        try:
            return await fn(store)
        finally:
            await store.close()

    return asyncio.run(run())


def finished_at(data_dir: Path, task_ids: list[str]) -> dict[str, float]:
    async def fn(store: Any) -> dict[str, float]:
        out = {}
        for task_id in task_ids:
            task = await store.tasks.get(task_id, fresh=True)
            if task is not None and task.finished_at is not None:
                out[task_id] = task.finished_at
        return out

    return _db(data_dir, fn)  # type: ignore[no-any-return]


def delivery_rows(data_dir: Path) -> dict[str, tuple[str, float]]:
    """delivery id -> (webhook id, created_at)."""
    from sqlalchemy import select

    from reelserve.store.tables import deliveries

    stmt = select(deliveries.c.id, deliveries.c.webhook_id, deliveries.c.created_at)

    async def fn(store: Any) -> dict[str, tuple[str, float]]:
        rows = await store.db.read(lambda conn: conn.execute(stmt).all())
        return {r[0]: (r[1], r[2]) for r in rows}

    return _db(data_dir, fn)  # type: ignore[no-any-return]


def insert_deliveries(data_dir: Path, url: str, n: int, prefix: str) -> None:
    """N pending deliveries to `url`, due now, written in a few large transactions."""
    from reelserve.callbacks.models import NewDelivery
    from reelserve.store.deliveries import insert_delivery

    async def fn(store: Any) -> None:
        (key,) = await store.keys.list()
        news = []
        for i in range(n):
            task_id = f"{prefix}{i:06d}"
            body = json.dumps(
                {
                    "code": 200,
                    "msg": "All generated successfully.",
                    "data": {
                        "task_id": task_id,
                        "video_id": f"{i:032x}",
                        "video_url": f"http://127.0.0.1:8000/files/media/{task_id}/video.mp4"
                        "?expires=1999999999&sig=" + "a" * 64,
                        "image_url": f"http://127.0.0.1:8000/files/media/{task_id}/cover.png"
                        "?expires=1999999999&sig=" + "b" * 64,
                    },
                },
                separators=(",", ":"),
            )
            news.append(NewDelivery.create(task_id, key.id, url, body))
        for start in range(0, n, 500):
            chunk = news[start : start + 500]

            def op(conn: Any, chunk: list[Any] = chunk) -> None:
                for new in chunk:
                    insert_delivery(conn, new)

            await store.db.write(op)

    _db(data_dir, fn)


# --------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    """Percentile by linear interpolation between closest ranks."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def summary(ms: list[float]) -> str:
    return (
        f"p50 {pct(ms, 50):6.1f} ms  p99 {pct(ms, 99):6.1f} ms  "
        f"min {min(ms):6.1f}  max {max(ms):6.1f}  (n={len(ms)})"
    )


def submit(client: httpx.Client, callback: str, i: int) -> str:
    body = {**GENERATE, "prompt": f"{GENERATE['prompt']} #{i}", "callBackUrl": callback}
    answer = client.post("/api/v1/runway/generate", json=body).json()
    assert answer["code"] == 200, answer
    return str(answer["data"]["taskId"])


def redeliver_batch(
    client: httpx.Client, task_ids: list[str], count: int, gap_s: float
) -> list[str]:
    """`count` redeliveries, one every `gap_s`, cycling over the tasks; their delivery ids."""
    ids = []
    for i in range(count):
        answer = client.post(
            "/api/v1/callbacks/redeliver", json={"taskId": task_ids[i % len(task_ids)]}
        ).json()
        assert answer["code"] == 200, answer
        ids.append(answer["data"]["deliveryId"])
        time.sleep(gap_s)
    return ids


def insert_to_arrival_ms(
    data_dir: Path, receiver: Receiver, delivery_ids: list[str], timeout: float
) -> list[float]:
    rows = delivery_rows(data_dir)
    wanted = {rows[d][0]: rows[d][1] for d in delivery_ids}
    deadline = time.monotonic() + timeout
    while True:
        arrived = {wid: at for wid, at, _ in receiver.arrivals() if wid in wanted}
        if len(arrived) == len(wanted) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    if len(arrived) < len(wanted):
        print(f"    WARNING: {len(wanted) - len(arrived)} of {len(wanted)} never arrived")
    return [(at - wanted[wid]) * 1000 for wid, at in arrived.items()]


def measure_latency_and_isolation(
    tasks: int, healthy: int, same_host: bool
) -> tuple[list[float], dict[str, tuple[list[float], list[float]]]]:
    """Parts 1 and 3, on one server with its worker."""
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        key = create_key(data_dir)
        receiver = Receiver()
        try:
            with (
                reelserve(data_dir) as (base, server),
                httpx.Client(
                    base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30
                ) as client,
            ):
                callback = receiver.base + "/cb"
                # Warm-up: the first task loads the engine and warms caches.
                submit(client, callback, 0)
                if not receiver.wait("count", 1, 60):
                    raise RuntimeError("the warm-up callback never arrived")
                receiver.reset()
                task_ids = [submit(client, callback, i) for i in range(1, tasks + 1)]
                if not receiver.wait("count", tasks, 30 + 5 * tasks):
                    print(f"    WARNING: only {receiver.stats()['count']} of {tasks} arrived")
                arrived: dict[str, float] = {}
                for _, at, task_id in receiver.arrivals():
                    arrived.setdefault(task_id, at)
                done = finished_at(data_dir, task_ids)
                latency = [(arrived[t] - done[t]) * 1000 for t in task_ids if t in arrived]
                print(f"  1. completion -> callback received: {summary(latency)}", flush=True)

                # Part 3: healthy redeliveries alone, then beside a hanging receiver.
                gap = 0.02
                isolation: dict[str, tuple[list[float], list[float]]] = {}
                hosts = ["127.0.0.2"] + (["127.0.0.1"] if same_host else [])
                for host in hosts:
                    receiver.reset()
                    idle_cpu = cpu_share(server.pid, 1.0)
                    cpu0, wall0 = cpu_s(server.pid), time.monotonic()
                    alone = insert_to_arrival_ms(
                        data_dir, receiver, redeliver_batch(client, task_ids, healthy, gap), 20
                    )
                    alone_cpu = (cpu_s(server.pid) - cpu0) / (time.monotonic() - wall0)
                    hanging = Receiver(host)
                    try:
                        insert_deliveries(data_dir, hanging.base + "/hang", 50, f"hang-{host}-")
                        if not hanging.wait("total", 8, 10):
                            print(f"    WARNING: hanging receiver got {hanging.stats()}")
                        # Settle, and see what the server does with only hanging sends open.
                        hang_idle_cpu = cpu_share(server.pid, 1.0)
                        receiver.reset()
                        cpu0, wall0 = cpu_s(server.pid), time.monotonic()
                        beside = insert_to_arrival_ms(
                            data_dir,
                            receiver,
                            redeliver_batch(client, task_ids, healthy, gap),
                            20,
                        )
                        beside_cpu = (cpu_s(server.pid) - cpu0) / (time.monotonic() - wall0)
                        in_flight = hanging.stats()
                    finally:
                        hanging.close()
                    label = "another host" if host != "127.0.0.1" else "same host, other port"
                    isolation[label] = (alone, beside)
                    print(
                        f"  3. healthy, alone            : {summary(alone)}\n"
                        f"     beside 50 hanging ({label}): {summary(beside)}\n"
                        f"     hanging receiver {host}: {in_flight['total']} requests "
                        f"received, {in_flight['in_flight']} in flight at the end\n"
                        f"     server CPU: idle {idle_cpu:.0%}, healthy alone {alone_cpu:.0%}; "
                        f"only hanging sends open {hang_idle_cpu:.0%}, "
                        f"healthy beside hanging {beside_cpu:.0%} (of one core)",
                        flush=True,
                    )
        finally:
            receiver.close()
    return latency, isolation


def measure_throughput(n: int) -> tuple[float, float, float]:
    """Part 2: (receiver alone req/s, deliveries/s first->last arrival, wall s from spawn)."""
    from bench.common import wrk

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        create_key(data_dir)
        receiver = Receiver()
        try:
            body = '{"code":200,"msg":"All generated successfully.","data":{"task_id":"x"}}'
            alone = wrk(
                receiver.base + "/cb",
                method="POST",
                body=body,
                headers={"Content-Type": "application/json", "webhook-id": "msg_wrk"},
                connections=8,
                duration_s=2,
            )
            receiver.reset()
            print(
                f"  2. receiver alone (wrk, 8 connections, 2 s): {alone.rps:.0f} req/s, "
                f"p99 {alone.p99_ms:.1f} ms",
                flush=True,
            )
            insert_deliveries(data_dir, receiver.base + "/cb", n, "tput-")
            spawned = time.time()
            # No /healthz wait: the server answers it only once start-up is done,
            # and deliveries may start before that.
            with reelserve(data_dir, "--no-worker", wait=False) as (base, server):
                if not receiver.wait("count", n, STALL_S):
                    busy = cpu_share(server.pid, 1.0)
                    print(
                        f"    STALLED: {receiver.stats()['count']} of {n} arrived "
                        f"in {STALL_S:g} s; "
                        f"/healthz {'answers' if responsive(base) else 'does not answer'}; "
                        f"server CPU {busy:.0%} of a core",
                        flush=True,
                    )
                times = sorted(at for _, at, _ in receiver.arrivals())
            rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
            wall = times[-1] - spawned if times else float("nan")
            if times:
                print(
                    f"     {len(times)} deliveries: {rate:.0f}/s from first to last arrival "
                    f"({times[-1] - times[0]:.2f} s); {wall:.2f} s from process start "
                    f"(first arrival at +{times[0] - spawned:.2f} s)",
                    flush=True,
                )
        finally:
            receiver.close()
    return alone.rps, rate, wall


def _on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=20, help="tasks for part 1")
    parser.add_argument("--deliveries", type=int, default=2000, help="deliveries for part 2")
    parser.add_argument("--healthy", type=int, default=100, help="healthy deliveries, part 3")
    parser.add_argument(
        "--same-host", action="store_true", help="part 3 also with the hang on 127.0.0.1"
    )
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        print(
            f"callbacks: {args.tasks} tasks, {args.deliveries} deliveries, "
            f"{args.healthy} healthy redeliveries beside 50 hanging (callback timeout 15 s)",
            flush=True,
        )
        latency, isolation = measure_latency_and_isolation(args.tasks, args.healthy, args.same_host)
        receiver_rps, rate, _ = measure_throughput(args.deliveries)
    finally:
        _end_all()

    p50 = pct(latency, 50)
    print(
        f"completion -> callback p50 {p50:.1f} ms, p99 {pct(latency, 99):.1f} ms "
        f"(target p50 < 50 ms: {'PASS' if p50 < 50 else 'FAIL'})"
    )
    print(
        f"deliveries/s to a fast local receiver: {rate:.0f}/s "
        f"(receiver alone {receiver_rps:.0f} req/s) "
        f"(target >= 300/s: {'PASS' if rate >= 300 else 'FAIL'})"
    )
    for label, (alone, beside) in isolation.items():
        added50 = pct(beside, 50) - pct(alone, 50)
        added99 = pct(beside, 99) - pct(alone, 99)
        verdict = "PASS" if added50 < 100 and added99 < 100 else "FAIL"
        if label != "another host":
            verdict = f"info, {verdict.lower()} by the same measure"
        print(
            f"added by a hanging receiver ({label}): p50 {added50:+.1f} ms, p99 {added99:+.1f} ms "
            f"(target < 100 ms: {verdict})"
        )


if __name__ == "__main__":
    main()
