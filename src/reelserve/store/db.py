"""The database handle. Store code is written once, as plain functions of a
SQLAlchemy `Connection`; the backend decides how they run:

- PostgreSQL: on an asyncpg connection through `AsyncConnection.run_sync`, so
  the I/O is natively asynchronous.
- SQLite: see `store/sqlite.py` (writes on one writer thread, reads inline).

`read(fn)` runs `fn` without a write transaction; `write(fn)` runs it in one
transaction that commits when `fn` returns and rolls back if it raises.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from reelserve.store.sqlite import SqliteBackend

T = TypeVar("T")
Op = Callable[[Connection], T]


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self._sqlite: SqliteBackend | None = None
        self._async: AsyncEngine | None = None
        if self.is_sqlite:
            self._sqlite = SqliteBackend(url)
        else:
            self._async = create_async_engine(
                url, pool_pre_ping=True, pool_size=10, max_overflow=10
            )

    async def read(self, fn: Op[T]) -> T:
        if self._sqlite is not None:
            return self._sqlite.read(fn)
        assert self._async is not None
        async with self._async.connect() as conn:
            return await conn.run_sync(fn)

    async def write(self, fn: Op[T]) -> T:
        if self._sqlite is not None:
            return await self._sqlite.write(fn)
        assert self._async is not None
        async with self._async.begin() as conn:
            return await conn.run_sync(fn)

    async def dispose(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
        if self._async is not None:
            await self._async.dispose()
