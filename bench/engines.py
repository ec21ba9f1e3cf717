"""The server's overhead around a diffusers engine, with the tiny random-weight pipelines.

    .venv/bin/python -m bench.engines [--tasks 8] [--steps 2]

(1) A real server (tests/support.run_server: SQLite, local blobs, in-process
worker) runs `ltx-video` on the tiny LTX checkpoint (tests/tiny_pipelines.py)
in its child process. After one warm-up task, each market text-to-video task
(2 s, 360p: 48 frames of 640×360) is submitted and polled every 5 ms until it
succeeds. Per task: wall time (submit → success seen), the pipeline call's own
time measured in the child (baseline), and the difference: the server's
overhead (HTTP, queue, claim, child round trip, frame transfer, fitting,
H.264 encoding, blob store, outcome write). Medians.

(2) Moving one production-sized output (121 frames of 768×512 RGB, 143 MB)
from the child to the parent: through a temporary .npy file read memory-mapped
(what the engine does) against pickling it through a multiprocessing pipe
(the baseline), both across a real spawned process.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

SHAPE = (121, 512, 768, 3)


def overhead(tasks: int, steps: int) -> None:
    from tests.engines.conftest import TinyWeights, tiny_settings
    from tests.support import run_server
    from tests.tiny_pipelines import build_ltx, build_wan

    from reelserve.engines.base import Capability, EngineRequest
    from reelserve.engines.isolated import IsolatedEngine

    with tempfile.TemporaryDirectory(prefix="bench-engines-") as tmp:
        root = Path(tmp)
        weights = TinyWeights(build_ltx(root / "ltx"), build_wan(root / "wan"), root / "wan")
        settings = tiny_settings(weights, ltx_steps=steps, engines={"text_to_video": "ltx-video"})
        with run_server(root / "data", **settings) as server:
            client = server.client("alice")
            walls: list[float] = []
            pipes: list[float] = []
            for i in range(tasks + 1):
                body = {
                    "model": "synthetic/text-to-video",
                    "input": {"prompt": f"a cat {i}", "duration": 2, "resolution": "360p"},
                }
                started = time.perf_counter()
                task = client.post("/api/v1/jobs/createTask", json=body).json()["data"]["taskId"]
                while True:
                    record = client.get("/api/v1/jobs/recordInfo", params={"taskId": task})
                    state = record.json()["data"]["state"]
                    if state in ("success", "fail"):
                        break
                    time.sleep(0.005)
                wall = time.perf_counter() - started
                assert state == "success", record.text
                engine = server.app.state.worker.registry.loaded("ltx-video")
                assert isinstance(engine, IsolatedEngine)
                if i == 0:
                    load = engine.stats.last_load_s
                    print(f"warm-up task {wall * 1000:.0f} ms (model load {load:.2f} s)")
                    continue
                walls.append(wall)
                pipes.append(engine.stats.last_pipeline_s)
            wall_ms = statistics.median(walls) * 1000
            pipe_ms = statistics.median(pipes) * 1000
            over = statistics.median(w - p for w, p in zip(walls, pipes, strict=True)) * 1000
            print(
                f"(1) {tasks} tasks, 48 frames 640x360 each, {steps} steps: "
                f"wall {wall_ms:.0f} ms, pipeline {pipe_ms:.0f} ms, "
                f"server overhead {over:.0f} ms (wall/pipeline {wall_ms / pipe_ms:.2f})"
            )
            # The child's share: the same engine called directly, no server around it.
            round_trips = []
            for i in range(tasks):
                request = EngineRequest(
                    operation=Capability.TEXT_TO_VIDEO,
                    prompt=f"a dog {i}",
                    width=640,
                    height=360,
                    num_frames=48,
                    fps=24,
                    seed=i,
                )
                started = time.perf_counter()
                frames = list(engine.run(request, lambda _: None).frames)
                round_trips.append(time.perf_counter() - started - engine.stats.last_pipeline_s)
                assert len(frames) == 9
            trip = statistics.median(round_trips) * 1000
            print(
                f"    of which the child process round trip (engine.run wall - pipeline): "
                f"{trip:.1f} ms; the rest is planning, fitting 9 -> 48 frames to 640x360, "
                "H.264 encoding, storing and the task's writes"
            )


def _child_npy(conn: Connection, path: str) -> None:
    frames = np.full(SHAPE, 7, np.uint8)
    conn.recv()
    np.save(path, frames)
    conn.send("done")


def _child_pipe(conn: Connection) -> None:
    frames = np.full(SHAPE, 7, np.uint8)
    conn.recv()
    conn.send(frames)


def transfer(runs: int) -> None:
    ctx = multiprocessing.get_context("spawn")
    results: dict[str, list[float]] = {"npy": [], "pipe": []}
    with tempfile.TemporaryDirectory(prefix="bench-transfer-") as tmp:
        for _ in range(runs):
            for kind in ("npy", "pipe"):
                parent, child = ctx.Pipe()
                path = str(Path(tmp) / "out.npy")
                args: tuple[Any, ...] = (child, path) if kind == "npy" else (child,)
                proc = ctx.Process(target=_child_npy if kind == "npy" else _child_pipe, args=args)
                proc.start()
                started = time.perf_counter()
                parent.send("go")
                message = parent.recv()
                if kind == "npy":
                    frames = np.load(path, mmap_mode="r")
                    total = sum(int(np.array(frames[i])[0, 0, 0]) for i in range(SHAPE[0]))
                    del frames
                else:
                    total = sum(int(message[i][0, 0, 0]) for i in range(SHAPE[0]))
                results[kind].append(time.perf_counter() - started)
                assert total == 7 * SHAPE[0]
                proc.join()
    npy = statistics.median(results["npy"]) * 1000
    pipe = statistics.median(results["pipe"]) * 1000
    size = np.prod(SHAPE) / 2**20
    print(
        f"(2) {SHAPE[0]} frames {SHAPE[2]}x{SHAPE[1]} ({size:.0f} MiB) child -> parent: "
        f".npy file {npy:.0f} ms, pickled through a pipe {pipe:.0f} ms (ratio {npy / pipe:.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=8)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--transfer-runs", type=int, default=3)
    args = parser.parse_args()
    overhead(args.tasks, args.steps)
    transfer(args.transfer_runs)


if __name__ == "__main__":
    main()
