"""S3 (SeaweedFS on loopback) against local disk, through the BlobStore, in one run.

    bash -c '. scripts/lib/services.sh; trap stop_services EXIT; \
             . scripts/lib/service-s3.sh; .venv/bin/python -m bench.blobs [--mb 64] [--runs 3]'

Needs the S3 server the test script starts (REELSERVE_TEST_S3_* variables).
Per run and store: `put_file` of a `--mb` MB random file (a fresh copy each
time: LocalBlobStore *moves* its source, which is a rename on one file
system, while S3 uploads it in 8 MiB multipart parts), `local_path` (S3:
streamed to a temporary file; local: the file itself, read through) and
`get_bytes` of it, then 200 `put_bytes` + `get_bytes` of 64 KB objects (the
size of a cover). Prints medians and the ratio S3/local. Stops by itself;
deletes what it wrote.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from reelserve.blobs.base import BlobStore
from reelserve.blobs.local import LocalBlobStore

SMALL = 64 * 1024
SMALL_COUNT = 200


def s3_store() -> BlobStore:
    from reelserve.blobs.s3 import S3BlobStore

    try:
        return S3BlobStore(
            os.environ["REELSERVE_TEST_S3_BUCKET"],
            endpoint=os.environ["REELSERVE_TEST_S3_ENDPOINT"],
            access_key=os.environ["REELSERVE_TEST_S3_ACCESS_KEY"],
            secret_key=os.environ["REELSERVE_TEST_S3_SECRET_KEY"],
        )
    except KeyError as exc:
        raise SystemExit(f"{exc} is unset: run through scripts/lib/service-s3.sh") from None


async def timed(fn: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    await fn()
    return time.perf_counter() - start


async def one_run(store: BlobStore, copy: Path, size: int, prefix: str) -> dict[str, float]:
    """Times on `store`; `copy` is a fresh copy of the source for put_file to consume."""
    key = f"{prefix}/big/video.mp4"
    out: dict[str, float] = {}
    out["put_file"] = await timed(lambda: store.put_file(key, copy, "video/mp4"))

    async def read_local_path() -> None:
        async with store.local_path(key) as path:
            with path.open("rb") as fh:
                while fh.read(1 << 20):
                    pass

    out["local_path"] = await timed(read_local_path)

    async def get_all() -> None:
        assert len(await store.get_bytes(key)) == size

    out["get_bytes"] = await timed(get_all)
    small = os.urandom(SMALL)

    async def put_small() -> None:
        for i in range(SMALL_COUNT):
            await store.put_bytes(f"{prefix}/small/{i}.png", small, "image/png")

    async def get_small() -> None:
        for i in range(SMALL_COUNT):
            await store.get_bytes(f"{prefix}/small/{i}.png")

    out["put_small"] = await timed(put_small)
    out["get_small"] = await timed(get_small)
    await store.delete_prefix(prefix)
    await asyncio.to_thread(copy.unlink, missing_ok=True)
    return out


async def main_async(work: Path, source: Path, mb: int, runs: int) -> None:
    stores = {"local": LocalBlobStore(work / "blobs"), "s3": s3_store()}
    results: dict[str, list[dict[str, float]]] = {name: [] for name in stores}
    size = mb * 1024 * 1024
    for _ in range(runs):
        for name, store in stores.items():
            copy = work / f"copy-{uuid.uuid4().hex}"
            await asyncio.to_thread(shutil.copyfile, source, copy)
            prefix = f"bench/{uuid.uuid4().hex}"
            results[name].append(await one_run(store, copy, size, prefix))
    size_mb = size / 1e6
    print(f"{mb} MiB object, {SMALL_COUNT} x {SMALL // 1024} KB objects, median of {runs} runs")
    print(f"{'operation':<12} {'local':>14} {'s3':>14} {'s3/local':>9}")
    for op in ("put_file", "local_path", "get_bytes", "put_small", "get_small"):
        med = {n: statistics.median(r[op] for r in results[n]) for n in stores}
        if op.endswith("_small"):
            rate = {n: SMALL_COUNT / med[n] for n in stores}
            unit = "ops/s"
        else:
            rate = {n: size_mb / med[n] for n in stores}
            unit = "MB/s"
        ratio = rate["s3"] / rate["local"]
        line = f"{op:<12} {rate['local']:>8.0f} {unit:<5} {rate['s3']:>8.0f} {unit:<5}"
        print(f"{line} {ratio:>8.1%}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=64)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-blobs-") as tmp:
        work = Path(tmp)
        source = work / "source.bin"
        source.write_bytes(os.urandom(args.mb * 1024 * 1024))
        asyncio.run(main_async(work, source, args.mb, args.runs))


if __name__ == "__main__":
    main()
