"""A private PostgreSQL cluster that a test may stop and start (an outage on purpose).

The shared cluster `./scripts/test` starts is never stopped: other tests use
it. This one is made like it (scripts/lib/service-postgres.sh: initdb into a
temporary directory, trust auth, fsync off, a free loopback port; as root the
cluster belongs to the `postgres` user and runs through `runuser`), and keeps
its port and data directory across `stop()` / `start()`, as a restarted
server would.

A missing PostgreSQL fails the test under CI (`CI` set) and skips it elsewhere,
as tests/services.py does for the shared services.

Example::

    with PrivatePostgres(tmp_path) as pg:
        url = pg.url          # postgresql+asyncpg://...
        pg.stop()             # pg_ctl stop -m fast: connections are cut
        pg.start()
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

import pytest

from tests.cluster import free_port


def _bindir() -> Path | None:
    found = shutil.which("pg_config")
    if found:
        done = subprocess.run([found, "--bindir"], capture_output=True, text=True, check=False)
        candidate = Path(done.stdout.strip())
        if (candidate / "initdb").exists():
            return candidate
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").exists():
            return Path(folder)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _missing(reason: str) -> None:
    message = f"a private PostgreSQL cluster cannot be made: {reason}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


class PrivatePostgres:
    def __init__(self) -> None:
        bindir = _bindir()
        if bindir is None:
            _missing("no initdb (install PostgreSQL)")
        assert bindir is not None
        self._bin = bindir
        self._as: list[str] = []
        # Not under pytest's tmp_path: as root the cluster belongs to `postgres`,
        # which may not enter root's directories.
        self.dir = Path(tempfile.mkdtemp(prefix="reelserve-pg-outage-"))
        if os.getuid() == 0:
            if shutil.which("runuser") is None:
                _missing("running as root and there is no runuser")
            done = subprocess.run(["id", "postgres"], capture_output=True, check=False)
            if done.returncode != 0:
                _missing("running as root and there is no 'postgres' user")
            shutil.chown(self.dir, "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]
        self.port = free_port()
        self.url = f"postgresql+asyncpg://reelserve@127.0.0.1:{self.port}/postgres"
        self._pg(
            "initdb", "-D", str(self.dir / "data"), "-U", "reelserve", "-A", "trust",
            "-E", "UTF8", "--no-sync",
        )  # fmt: skip
        self.start()

    def _pg(self, tool: str, *args: str) -> None:
        done = subprocess.run(
            [*self._as, str(self._bin / tool), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            log = self.dir / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{tool} {' '.join(args)} failed: {done.stderr}{done.stdout}{tail}")

    def start(self) -> None:
        """Start (again) on the same port and data directory; returns once it accepts."""
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=200 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._pg(
            "pg_ctl", "-D", str(self.dir / "data"), "-l", str(self.dir / "server.log"),
            "-w", "-t", "60", "-o", options, "start",
        )  # fmt: skip

    def stop(self) -> None:
        """Stop at once (`-m fast`): open connections are cut, new ones are refused."""
        self._pg("pg_ctl", "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")

    def close(self) -> None:
        subprocess.run(
            [*self._as, str(self._bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m",
             "immediate", "-w", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
        )  # fmt: skip
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PrivatePostgres:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
