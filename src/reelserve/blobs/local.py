"""A BlobStore on a local directory: the embedded default.

A failing disk (full, read-only, I/O errors) is `BlobUnavailable`, as an
unreachable S3 is: the caller retries, and a failed write leaves neither a
half-written blob nor a temporary file taking space, and keeps its source.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from reelserve.blobs.base import BlobNotFound, BlobStore, BlobUnavailable
from reelserve.blobs.keys import check_key


class LocalBlobStore(BlobStore):
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def path_for(self, key: str) -> Path:
        return self.root / check_key(key)

    def _translate(self, key: str, exc: Exception) -> Exception | None:
        # A missing file is handled where it means something (BlobNotFound, or a
        # caller's missing source); any other OS error is the disk failing.
        if isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError):
            return BlobUnavailable(f"{key}: {type(exc).__name__}: {exc}")
        return None

    async def put_file(self, key: str, source: Path, content_type: str) -> None:
        dest = self.path_for(key)
        with self._guard(key, write=True):
            await asyncio.to_thread(self._place, source, dest, move=True)

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        dest = self.path_for(key)
        with self._guard(key, write=True):
            await asyncio.to_thread(self._write, dest, data)

    async def get_bytes(self, key: str) -> bytes:
        path = self.path_for(key)
        with self._guard(key):
            try:
                return await asyncio.to_thread(path.read_bytes)
            except FileNotFoundError:
                raise BlobNotFound(key) from None

    @asynccontextmanager
    async def local_path(self, key: str) -> AsyncIterator[Path]:
        path = self.path_for(key)
        if not path.is_file():
            raise BlobNotFound(key)
        yield path

    async def exists(self, key: str) -> bool:
        return self.path_for(key).is_file()

    async def delete(self, key: str) -> bool:
        path = self.path_for(key)
        with self._guard(key, write=True):
            try:
                await asyncio.to_thread(path.unlink)
            except FileNotFoundError:
                return False
        return True

    async def size(self, key: str) -> int:
        with self._guard(key):
            try:
                return (await asyncio.to_thread(self.path_for(key).stat)).st_size
            except FileNotFoundError:
                raise BlobNotFound(key) from None

    async def iter_prefix(self, prefix: str) -> AsyncIterator[str]:
        folder = self.path_for(prefix)
        if not folder.is_dir():
            return
        for path in await asyncio.to_thread(lambda: sorted(folder.rglob("*"))):
            # Half-written files (".name.tmp") are not blobs yet.
            if path.is_file() and not path.name.startswith("."):
                yield path.relative_to(self.root).as_posix()

    async def delete_prefix(self, prefix: str) -> int:
        folder = self.path_for(prefix)
        if not folder.is_dir():
            return 0
        with self._guard(prefix, write=True):
            count = sum(1 for p in folder.rglob("*") if p.is_file())
            await asyncio.to_thread(shutil.rmtree, folder, True)
        return count

    @staticmethod
    def _place(source: Path, dest: Path, *, move: bool) -> None:
        # Readers must never see a half-written blob: write beside, then rename.
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
        moved = False
        try:
            if move:
                try:
                    os.replace(source, tmp)
                    moved = True
                except OSError:
                    shutil.copyfile(source, tmp)
            else:
                shutil.copyfile(source, tmp)
            os.replace(tmp, dest)
        except BaseException:
            # Keep the source for a retry; a partial copy would only take space.
            if moved:
                with contextlib.suppress(OSError):
                    os.replace(tmp, source)
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise

    @staticmethod
    def _write(dest: Path, data: bytes) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, dest)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
