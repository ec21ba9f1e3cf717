"""Stream-upload throughput against writing the same bytes to local disk, in one run.

    .venv/bin/python -m bench.uploads [--mb 50] [--runs 5]

Starts `reelserve serve --no-worker` on loopback (fresh temporary data dir),
then per run: POSTs the payload (random bytes) to /api/file-stream-upload as
multipart with httpx, and writes the same bytes to a file in the same data
dir in 1 MB writes (no fsync: the server does not fsync either). Prints the
median MB/s of each and the ratio upload/disk. Stops by itself.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import create_key, start_reelserve, stop


def disk_write(path: Path, payload: bytes) -> float:
    start = time.perf_counter()
    with path.open("wb") as fh:
        view = memoryview(payload)
        for offset in range(0, len(payload), 1 << 20):
            fh.write(view[offset : offset + (1 << 20)])
    elapsed = time.perf_counter() - start
    path.unlink()
    return elapsed


def stream_upload(client: httpx.Client, payload: bytes, run: int) -> float:
    files = {"file": ("bench.bin", payload, "application/octet-stream")}
    start = time.perf_counter()
    answer = client.post(
        "/api/file-stream-upload",
        data={"uploadPath": "bench", "fileName": f"run-{run}.bin"},
        files=files,
    ).json()
    elapsed = time.perf_counter() - start
    if answer["code"] != 200 or answer["data"]["fileSize"] != len(payload):
        raise RuntimeError(f"upload failed: {answer}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    payload = os.urandom(args.mb * 1024 * 1024)
    size_mb = len(payload) / 1e6
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        key = create_key(data_dir)
        proc, base = start_reelserve(data_dir, "--no-worker")
        try:
            headers = {"Authorization": f"Bearer {key}"}
            with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
                stream_upload(client, payload, -1)  # warm-up
                uploads, disks = [], []
                for run in range(args.runs):
                    uploads.append(stream_upload(client, payload, run))
                    disks.append(disk_write(data_dir / "baseline.bin", payload))
        finally:
            stop(proc)
    up = size_mb / statistics.median(uploads)
    disk = size_mb / statistics.median(disks)
    print(f"payload {size_mb:.1f} MB, {args.runs} runs, medians")
    print(f"stream upload (httpx multipart -> reelserve serve): {up:8.1f} MB/s")
    print(f"local disk write (same bytes, same dir):            {disk:8.1f} MB/s")
    print(f"ratio upload/disk: {up / disk:.2f}")


if __name__ == "__main__":
    main()
