"""An in-memory BlobStore: the fake for unit tests.

`unavailable` stands in for an outage: while it holds a reason, every call
raises `BlobUnavailable` with it, as an unreachable S3 would.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from reelserve.blobs.base import BlobNotFound, BlobStore, BlobUnavailable
from reelserve.blobs.keys import check_key


class MemoryBlobStore(BlobStore):
    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}
        self.unavailable: str | None = None
        """A reason set here makes every call fail with BlobUnavailable (an outage)."""

    def _check(self, key: str) -> None:
        if self.unavailable is not None:
            with self._guard(key):
                raise BlobUnavailable(f"{key}: {self.unavailable}")

    async def put_file(self, key: str, source: Path, content_type: str) -> None:
        self._check(key)
        self.objects[check_key(key)] = (await asyncio.to_thread(source.read_bytes), content_type)

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        self._check(key)
        self.objects[check_key(key)] = (data, content_type)

    async def get_bytes(self, key: str) -> bytes:
        self._check(key)
        try:
            return self.objects[key][0]
        except KeyError:
            raise BlobNotFound(key) from None

    @asynccontextmanager
    async def local_path(self, key: str) -> AsyncIterator[Path]:
        data = await self.get_bytes(key)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / Path(key).name
            path.write_bytes(data)
            yield path

    async def exists(self, key: str) -> bool:
        self._check(key)
        return key in self.objects

    async def delete(self, key: str) -> bool:
        self._check(key)
        return self.objects.pop(key, None) is not None

    async def size(self, key: str) -> int:
        return len(await self.get_bytes(key))

    async def iter_prefix(self, prefix: str) -> AsyncIterator[str]:
        for key in [k for k in self.objects if k.startswith(prefix.rstrip("/") + "/")]:
            yield key

    async def delete_prefix(self, prefix: str) -> int:
        self._check(prefix)
        doomed = [k for k in self.objects if k.startswith(prefix.rstrip("/") + "/")]
        for k in doomed:
            del self.objects[k]
        return len(doomed)
