"""An in-memory BlobStore: the fake for unit tests."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from reelserve.blobs.base import BlobNotFound, BlobStore
from reelserve.blobs.keys import check_key


class MemoryBlobStore(BlobStore):
    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}

    async def put_file(self, key: str, source: Path, content_type: str) -> None:
        self.objects[check_key(key)] = (await asyncio.to_thread(source.read_bytes), content_type)

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        self.objects[check_key(key)] = (data, content_type)

    async def get_bytes(self, key: str) -> bytes:
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
        return key in self.objects

    async def delete(self, key: str) -> bool:
        return self.objects.pop(key, None) is not None

    async def size(self, key: str) -> int:
        return len(await self.get_bytes(key))

    async def iter_prefix(self, prefix: str) -> AsyncIterator[str]:
        for key in [k for k in self.objects if k.startswith(prefix.rstrip("/") + "/")]:
            yield key

    async def delete_prefix(self, prefix: str) -> int:
        doomed = [k for k in self.objects if k.startswith(prefix.rstrip("/") + "/")]
        for k in doomed:
            del self.objects[k]
        return len(doomed)
