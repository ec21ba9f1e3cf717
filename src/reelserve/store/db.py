"""The database handle. Store code is written once, as plain functions of a
SQLAlchemy `Connection`; the backend decides how they run:

- PostgreSQL: on an asyncpg connection through `AsyncConnection.run_sync`, so
  the I/O is natively asynchronous.
- SQLite: see `store/sqlite.py` (writes on one writer thread, reads inline).

`read(fn)` runs `fn` without a write transaction; `write(fn)` runs it in one
transaction that commits when `fn` returns and rolls back if it raises.

This is the store's call boundary for outages too: an error that means the
database cannot be reached or used right now (each backend's `unavailable`)
leaves as `DatabaseUnavailable`, which the API answers with 503 and the loops
retry; `health` logs one line when the outage begins and one when it ends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from reelserve.errors import DatabaseUnavailable
from reelserve.outages import Outage
from reelserve.store import postgres, sqlite
from reelserve.store.sqlite import SqliteBackend

T = TypeVar("T")
Op = Callable[[Connection], T]


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.health = Outage("the database")
        self._sqlite: SqliteBackend | None = None
        self._async: AsyncEngine | None = None
        if self.is_sqlite:
            self._sqlite = SqliteBackend(url)
        else:
            self._async = create_async_engine(
                url, pool_pre_ping=True, pool_size=10, max_overflow=10
            )

    async def read(self, fn: Op[T]) -> T:
        try:
            if self._sqlite is not None:
                result = self._sqlite.read(fn)
            else:
                assert self._async is not None
                async with self._async.connect() as conn:
                    result = await conn.run_sync(fn)
        except Exception as exc:
            outage = self._outage(exc, write=False)
            if outage is None:
                raise
            raise outage from exc
        self.health.ok()
        return result

    async def write(self, fn: Op[T]) -> T:
        try:
            if self._sqlite is not None:
                result = await self._sqlite.write(fn)
            else:
                assert self._async is not None
                async with self._async.begin() as conn:
                    result = await conn.run_sync(fn)
        except Exception as exc:
            outage = self._outage(exc, write=True)
            if outage is None:
                raise
            raise outage from exc
        self.health.ok(write=True)
        return result

    def _outage(self, exc: Exception, *, write: bool) -> DatabaseUnavailable | None:
        """`DatabaseUnavailable` when `exc` means an outage; None when the database answered."""
        if isinstance(exc, DatabaseUnavailable):
            return None  # raised by a nested call, already counted
        reason = sqlite.unavailable(exc) if self.is_sqlite else postgres.unavailable(exc)
        if reason is None:
            self.health.ok(write=write)
            return None
        self.health.failed(reason, write=write)
        return DatabaseUnavailable(reason)

    async def dispose(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
        if self._async is not None:
            await self._async.dispose()
