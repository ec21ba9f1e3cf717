"""The BlobStore interface."""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path

from reelserve.errors import DependencyUnavailable
from reelserve.outages import Outage


class BlobNotFound(Exception):
    pass


class BlobUnavailable(DependencyUnavailable):
    """The object store could not be reached or refused the request (not a missing blob):
    S3 unreachable or answering 5xx, a timeout, a full or failing disk."""

    dependency = "media storage"


class BlobStore(ABC):
    """Stores immutable objects by key. Implementations: local directory, memory (tests), S3.

    Implementations run their storage calls inside `self._guard(key)`, which turns
    their own errors into `BlobUnavailable` (`_translate`) and keeps `health` (one
    log line when storage goes down, one when it is back).
    """

    _health: Outage | None = None

    @property
    def health(self) -> Outage:
        if self._health is None:
            self._health = Outage("media storage")
        return self._health

    def _translate(self, key: str, exc: Exception) -> Exception | None:
        """The BlobStore error `exc` stands for; None lets it through as it is."""
        return None

    @contextlib.contextmanager
    def _guard(self, key: str, *, write: bool = False, offline: bool = False) -> Iterator[None]:
        """One storage call (`write`: it stores or deletes; `offline`: it does not reach
        storage at all, as presigning, so its success says nothing about an outage)."""
        try:
            yield
        except BlobNotFound:
            if not offline:
                self.health.ok(write=write)  # storage answered
            raise
        except BlobUnavailable as exc:
            self.health.failed(str(exc), write=write)
            raise
        except Exception as exc:
            translated = self._translate(key, exc)
            if translated is None:
                raise
            if isinstance(translated, BlobUnavailable):
                self.health.failed(str(translated), write=write)
            elif not offline:
                self.health.ok(write=write)
            raise translated from exc
        else:
            if not offline:
                self.health.ok(write=write)

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
