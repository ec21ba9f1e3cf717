"""A scale-out deployment on one machine, for e2e tests and bench/scale.py: an API
process (`reelserve serve --no-worker`) and `reelserve worker` processes sharing
one database and one data directory, each a real subprocess with its own log.

Example::

    with Cluster(tmp_path, database_url) as cluster:
        key = cluster.create_key("k")
        cluster.start_api()
        cluster.start_worker("--concurrency", "2")
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from sqlalchemy import select

from reelserve.store.store import Store
from reelserve.store.tables import deliveries, tasks

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Process:
    """One reelserve subprocess, its output in `log`."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args = args
        self.log = log
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "reelserve", *args],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.pid = self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)  # reaped: its pid is really gone

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM; the exit code (raises if it does not exit within `timeout`)."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


class Cluster:
    def __init__(self, root: Path, database_url: str, **env: str) -> None:
        self.root = root
        self.data_dir = root / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "REELSERVE_DATA_DIR": str(self.data_dir),
            "REELSERVE_DATABASE_URL": database_url,
            "REELSERVE_PUBLIC_URL": self.base_url,
            "REELSERVE_SIGNING_SECRET": "cluster-test-secret",
            "REELSERVE_X264_PRESET": "ultrafast",
            **env,
        }
        self.processes: list[Process] = []

    def __enter__(self) -> Cluster:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()

    def run_cli(self, *args: str) -> str:
        """Run a short `reelserve` command to completion; its output."""
        done = subprocess.run(
            [sys.executable, "-m", "reelserve", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr + done.stdout
        return done.stdout

    def create_key(self, name: str) -> str:
        """A key without a rate limit, made by the CLI (`keys create --rate-limit 0`)."""
        return self.run_cli("keys", "create", "--name", name, "--rate-limit", "0").splitlines()[-1]

    def start_api(self, *, worker: bool = False) -> Process:
        """`reelserve serve --no-worker` (`worker=True`: with its in-process worker)."""
        log = self.root / "api.log"
        args = ["serve", "--port", str(self.port)] + ([] if worker else ["--no-worker"])
        api = Process(args, self.env, log)
        self.processes.append(api)
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(self.base_url + "/healthz", timeout=2).status_code == 200:
                    return api
            except httpx.TransportError:
                pass
            assert api.alive(), api.tail()
            assert time.monotonic() < deadline, "the API process did not start"
            time.sleep(0.1)

    def start_worker(self, *args: str, **env: str) -> Process:
        n = len([p for p in self.processes if p.args[0] == "worker"])
        log = self.root / f"worker{n}.log"
        worker = Process(["worker", *args], {**self.env, **env}, log)
        self.processes.append(worker)
        return worker

    def wait_for_workers(self, count: int, timeout: float = 60) -> None:
        """Until `count` workers have registered (they are ready to claim)."""
        deadline = time.monotonic() + timeout
        while len(self.read(lambda store: store.workers.list())) < count:
            for p in self.processes:
                assert p.alive() or p.args[0] != "worker", p.tail()
            assert time.monotonic() < deadline, f"fewer than {count} workers registered"
            time.sleep(0.1)

    # -- reading the shared database --------------------------------------------

    def read(self, fn: Any) -> Any:
        """`await fn(store)` on a store of this cluster's database."""

        async def run() -> Any:
            store = Store(self.database_url, read_cache_s=0)
            await store.open()
            try:
                return await fn(store)
            finally:
                await store.close()

        return asyncio.run(run())

    def task_rows(self) -> list[dict[str, Any]]:
        async def fn(store: Store) -> list[dict[str, Any]]:
            stmt = select(tasks).order_by(tasks.c.seq)
            return await store.db.read(
                lambda c: [dict(r) for r in c.execute(stmt).mappings().all()]
            )

        return list(self.read(fn))

    def delivery_rows(self) -> list[dict[str, Any]]:
        async def fn(store: Store) -> list[dict[str, Any]]:
            stmt = select(deliveries).order_by(deliveries.c.seq)
            return await store.db.read(
                lambda c: [dict(r) for r in c.execute(stmt).mappings().all()]
            )

        return list(self.read(fn))
