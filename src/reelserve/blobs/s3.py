"""A BlobStore on an S3-compatible bucket (AWS S3, SeaweedFS, MinIO, Ceph, R2, ...).

The client is obstore (Rust's `object_store` behind a typed Python API), chosen
over boto3-in-threads and aioboto3 because:

- it is async-native: requests run on obstore's own runtime and are awaited,
  so no thread per call (boto3 would need `asyncio.to_thread` everywhere) and
  no aiohttp + botocore stack (aioboto3);
- it is light: one compiled module, about 11 ms to import (botocore loads
  its JSON service models on first use);
- multipart is built in: `put` from a path streams the file in parts, a few
  at a time, and aborts the upload when a part fails;
- presigning (SigV4 query signing) is built in, with no request to S3;
- it ships `.pyi` stubs with `py.typed`, so `mypy --strict` checks these calls
  without a separate stubs package.

It is an optional extra (`pip install 'reelserve[s3]'`); this module is only
imported when `REELSERVE_S3_BUCKET` is set (`blobs/choose.py`).

Example::

    blobs = S3BlobStore("media", endpoint="http://127.0.0.1:8333",
                        access_key="k", secret_key="s")
    await blobs.put_bytes("media/t1/v1/cover.png", png, "image/png")
    url = await blobs.direct_url("media/t1/v1/cover.png", "GET", 300)
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Literal

import obstore
from obstore.exceptions import BaseError as ObstoreError
from obstore.exceptions import NotFoundError
from obstore.store import S3Store

from reelserve.blobs.base import BlobNotFound, BlobStore, BlobUnavailable
from reelserve.blobs.keys import check_key
from reelserve.settings import Settings

if TYPE_CHECKING:
    from obstore.store import ClientConfig, S3Config

MIB = 1024 * 1024
MAX_PRESIGN_S = 7 * 86400
"""S3 refuses presigned URLs that live longer than 7 days."""
_PART_CONCURRENCY = 4
"""Parts in flight per upload: enough to fill a link, bounded memory (4 x part size)."""
_DELETE_BATCH = 1000
"""S3's DeleteObjects takes at most 1000 keys."""

Method = Literal["GET", "HEAD"]


class S3BlobStore(BlobStore):
    def __init__(
        self,
        bucket: str,
        *,
        endpoint: str = "",
        region: str = "us-east-1",
        access_key: str = "",
        secret_key: str = "",
        public_endpoint: str = "",
        part_size: int = 8 * MIB,
    ) -> None:
        if part_size < 5 * MIB:
            raise ValueError("S3 multipart parts must be at least 5 MiB")
        self.bucket = bucket
        self.part_size = part_size
        self._store = _s3_store(bucket, endpoint, region, access_key, secret_key)
        # Presigned URLs are signed for the host clients will send them to.
        self._signer = (
            _s3_store(bucket, public_endpoint, region, access_key, secret_key)
            if public_endpoint and public_endpoint != endpoint
            else self._store
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> S3BlobStore:
        return cls(
            settings.s3_bucket,
            endpoint=settings.s3_endpoint,
            region=settings.s3_region,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key,
            public_endpoint=settings.s3_public_endpoint,
            part_size=settings.s3_part_mb * MIB,
        )

    def _translate(self, key: str, exc: Exception) -> Exception | None:
        """obstore errors as BlobStore ones: missing → BlobNotFound, the rest → BlobUnavailable."""
        if isinstance(exc, (FileNotFoundError, NotFoundError)):
            return BlobNotFound(key)
        if isinstance(exc, (ObstoreError, OSError)):
            return BlobUnavailable(f"{key}: {_first_line(exc)}")
        return None

    async def put_file(self, key: str, source: Path, content_type: str) -> None:
        # Streams from disk: parts of `part_size` above one part, one PUT below.
        with self._guard(key, write=True):
            await obstore.put_async(
                self._store,
                check_key(key),
                source,
                attributes={"Content-Type": content_type},
                chunk_size=self.part_size,
                max_concurrency=_PART_CONCURRENCY,
            )

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        with self._guard(key, write=True):
            await obstore.put_async(
                self._store,
                check_key(key),
                data,
                attributes={"Content-Type": content_type},
                chunk_size=self.part_size,
                max_concurrency=_PART_CONCURRENCY,
            )

    async def get_bytes(self, key: str) -> bytes:
        with self._guard(key):
            result = await obstore.get_async(self._store, check_key(key))
            return bytes(await result.bytes_async())

    async def get_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes `start` (inclusive) to `end` (exclusive), fetched with an HTTP Range."""
        with self._guard(key):
            data = await obstore.get_range_async(self._store, check_key(key), start=start, end=end)
            return bytes(data)

    @asynccontextmanager
    async def local_path(self, key: str) -> AsyncIterator[Path]:
        # Decoders need a seekable file: stream the object to a temporary one.
        with tempfile.TemporaryDirectory(prefix="reelserve-s3-") as tmp:
            path = Path(tmp) / PurePosixPath(check_key(key)).name
            with self._guard(key):
                result = await obstore.get_async(self._store, key)
                fh = await asyncio.to_thread(path.open, "wb")
                try:
                    async for chunk in result.stream(min_chunk_size=MIB):
                        await asyncio.to_thread(fh.write, chunk)
                finally:
                    await asyncio.to_thread(fh.close)
            yield path

    async def exists(self, key: str) -> bool:
        try:
            await self.size(key)
        except BlobNotFound:
            return False
        return True

    async def size(self, key: str) -> int:
        with self._guard(key):
            meta = await obstore.head_async(self._store, check_key(key))
            return int(meta["size"])

    async def delete(self, key: str) -> bool:
        # S3's DELETE answers 204 whether or not the object was there.
        if not await self.exists(key):
            return False
        with self._guard(key, write=True):
            await obstore.delete_async(self._store, key)
        return True

    async def iter_prefix(self, prefix: str) -> AsyncIterator[str]:
        folder = check_key(prefix.rstrip("/")) + "/"
        with self._guard(prefix):
            async for batch in obstore.list(self._store, folder, chunk_size=_DELETE_BATCH):
                for meta in batch:
                    yield meta["path"]

    async def delete_prefix(self, prefix: str) -> int:
        keys = [key async for key in self.iter_prefix(prefix)]
        with self._guard(prefix, write=True):
            for i in range(0, len(keys), _DELETE_BATCH):
                await obstore.delete_async(self._store, keys[i : i + _DELETE_BATCH])
        return len(keys)

    async def direct_url(self, key: str, method: str, ttl_s: int) -> str | None:
        verb: Method = "HEAD" if method.upper() == "HEAD" else "GET"
        ttl = timedelta(seconds=max(1, min(ttl_s, MAX_PRESIGN_S)))
        with self._guard(key, offline=True):
            return await obstore.sign_async(self._signer, verb, check_key(key), ttl)


def _first_line(exc: Exception) -> str:
    # obstore's messages run to a dozen lines of nested causes; the first says what failed.
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _s3_store(bucket: str, endpoint: str, region: str, access_key: str, secret_key: str) -> S3Store:
    config: S3Config = {"region": region, "virtual_hosted_style_request": False}
    if endpoint:
        config["endpoint"] = endpoint
    if access_key:
        # Else obstore reads AWS_* variables or instance/container credentials.
        config["access_key_id"] = access_key
        config["secret_access_key"] = secret_key
    client: ClientConfig = {
        "allow_http": endpoint.startswith("http://"),
        "connect_timeout": timedelta(seconds=5),
        # Whole request: a part or a video streamed to a temp file, not a stall.
        "timeout": timedelta(minutes=5),
    }
    return S3Store(
        bucket,
        config=config,
        client_options=client,
        retry_config={"max_retries": 3, "retry_timeout": timedelta(seconds=60)},
    )
