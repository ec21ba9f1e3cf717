"""The BlobStore interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path


class BlobNotFound(Exception):
    pass


class BlobUnavailable(Exception):
    """The object store could not be reached or refused the request (not a missing blob)."""


class BlobStore(ABC):
    """Stores immutable objects by key. Implementations: local directory, memory (tests), S3."""

    @abstractmethod
    async def put_file(self, key: str, source: Path, content_type: str) -> None:
        """Store the file at `source` under `key` (the source may be moved or copied)."""

    @abstractmethod
    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None: ...

    @abstractmethod
    async def get_bytes(self, key: str) -> bytes: ...

    @abstractmethod
    def local_path(self, key: str) -> AbstractAsyncContextManager[Path]:
        """A readable local file with the blob's content, for decoders that need a path."""

    @abstractmethod
    async def exists(self, key: str) -> bool: ...

    @abstractmethod
    async def delete_prefix(self, prefix: str) -> int:
        """Delete every blob under `prefix/`; returns how many were deleted."""

    async def delete(self, key: str) -> bool:  # pragma: no cover - overridden by every store
        """Delete one blob; False if there was none."""
        raise NotImplementedError

    async def iter_prefix(self, prefix: str) -> AsyncIterator[str]:  # pragma: no cover - optional
        """Every key under `prefix/`, in no particular order."""
        raise NotImplementedError
        yield ""

    async def size(self, key: str) -> int:  # pragma: no cover - overridden by every store
        """The blob's length in bytes; BlobNotFound when there is none."""
        raise NotImplementedError

    async def direct_url(self, key: str, method: str, ttl_s: int) -> str | None:
        """A URL a client can fetch the blob from without this server, valid `ttl_s`
        seconds (a presigned S3 URL), or None when only this server can serve it."""
        return None
