"""SQLite-only behaviour, kept in this one place.

- WAL journal so readers never block the writer, and a busy timeout so other
  processes (`reelserve keys ...`, a second server) wait instead of failing.
- Writes run on one dedicated thread with one connection, in BEGIN IMMEDIATE
  transactions: SQLite has a single writer anyway, so a queue in front of it
  costs nothing and avoids lock contention; IMMEDIATE takes the write lock up
  front, so a read-then-write transaction can never fail on lock upgrade.
- Group commit: the writer takes every write waiting in the queue (up to
  `BATCH`) and runs them in one transaction, so under load one commit serves
  many requests. If any of them raises, the batch is rolled back and each
  write is re-run in a transaction of its own, so one bad write never sinks
  the others (store functions are pure SQL, safe to run again).
- Reads run inline on the caller's thread on a second connection, each
  statement on its own (autocommit). A primary-key lookup in a WAL database
  takes microseconds, less than handing it to a thread would.
- Which errors mean "the database cannot be used right now" (`unavailable`):
  a full disk, an I/O error, a read-only or unopenable file, a lock held past
  the busy timeout. They pass once the operator fixes the cause; nothing else
  is needed (the writer thread survives them and reconnects if it must).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.pool import StaticPool

T = TypeVar("T")
BATCH = 64

_Write = tuple[Callable[[Connection], Any], asyncio.AbstractEventLoop, "asyncio.Future[Any]"]


def _path_of(url: str) -> str:
    # sqlite+aiosqlite:///path, sqlite:///path, sqlite:///:memory:
    return url.split("///", 1)[-1] if "///" in url else ":memory:"


class SqliteBackend:
    def __init__(self, url: str) -> None:
        path = _path_of(url)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._writer_engine = _engine(path, immediate=True)
        self._reader_engine = _engine(path, immediate=False)
        self._queue: queue.SimpleQueue[_Write | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._thread_lock = threading.Lock()
        self._reader: Connection | None = None
        self._reader_lock = threading.Lock()

    def read(self, fn: Callable[[Connection], T]) -> T:
        with self._reader_lock:
            if self._reader is None:
                self._reader = self._reader_engine.connect()
            try:
                return fn(self._reader)
            finally:
                self._reader.rollback()

    async def write(self, fn: Callable[[Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._ensure_writer()
        self._queue.put((fn, loop, future))
        return await future

    def _ensure_writer(self) -> None:
        with self._thread_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._writer_loop, name="sqlite-writer", daemon=True
                )
                self._thread.start()

    def _writer_loop(self) -> None:
        conn: Connection | None = None
        try:
            while True:
                first = self._queue.get()
                if first is None:
                    return
                batch = [first]
                while len(batch) < BATCH:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is None:
                        self._queue.put(None)  # finish this batch, then stop
                        break
                    batch.append(item)
                outcomes: list[_Outcome]
                try:
                    if conn is None:
                        conn = self._writer_engine.connect()
                    outcomes = self._run_batch(conn, [fn for fn, _, _ in batch])
                except Exception as exc:
                    # The file could not be opened (a full or read-only disk): fail
                    # this batch, keep the thread, connect again for the next one.
                    outcomes = [(False, exc)] * len(batch)
                    if conn is not None:
                        with contextlib.suppress(Exception):
                            conn.close()
                    conn = None
                if len(outcomes) != len(batch):  # never expected; the thread must not die
                    broken = RuntimeError("the SQLite writer lost track of a batch")
                    outcomes = [(False, broken)] * len(batch)
                for (_, loop, future), outcome in zip(batch, outcomes, strict=True):
                    loop.call_soon_threadsafe(_settle, future, outcome)
        finally:
            if conn is not None:
                conn.close()

    @staticmethod
    def _run_batch(conn: Connection, fns: list[Callable[[Connection], Any]]) -> list[_Outcome]:
        try:
            with conn.begin():
                return [(True, fn(conn)) for fn in fns]
        except Exception as exc:
            if len(fns) == 1:
                return [(False, exc)]
        outcomes: list[_Outcome] = []
        for fn in fns:
            # The outcome is known only once the commit went through: a full disk
            # fails the COMMIT of a write whose statements worked.
            try:
                with conn.begin():
                    value = fn(conn)
            except Exception as exc:
                outcomes.append((False, exc))
            else:
                outcomes.append((True, value))
        return outcomes

    def close(self) -> None:
        with self._thread_lock:
            if self._thread is not None:
                self._queue.put(None)
                self._thread.join()
                self._thread = None
        with self._reader_lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None
        self._writer_engine.dispose()
        self._reader_engine.dispose()


_Outcome = tuple[bool, Any]

# SQLite's primary result codes that pass once the operator acts (sqlite.org/rescode.html).
_UNAVAILABLE_CODES = {
    5: "the database file is locked by another process",  # SQLITE_BUSY, past busy_timeout
    8: "the database file is read-only",  # SQLITE_READONLY
    10: "disk I/O error",  # SQLITE_IOERR
    13: "the disk is full",  # SQLITE_FULL
    14: "the database file cannot be opened",  # SQLITE_CANTOPEN
}
_UNAVAILABLE_TEXTS = (
    "database is locked",
    "readonly database",
    "disk i/o error",
    "database or disk is full",
    "unable to open database file",
)


def unavailable(exc: BaseException) -> str | None:
    """Why `exc` means the SQLite database cannot be used now (None: it is another error)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sqlite3.Error):
            code = getattr(current, "sqlite_errorcode", None)
            if isinstance(code, int) and code & 0xFF in _UNAVAILABLE_CODES:
                return f"{_UNAVAILABLE_CODES[code & 0xFF]}: {current}"
            text = str(current).lower()
            if any(t in text for t in _UNAVAILABLE_TEXTS):
                return str(current)
        elif isinstance(current, OSError):
            return f"{type(current).__name__}: {current}"
        # SQLAlchemy keeps the driver's error in `orig` (and as the cause).
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return None


def _settle(future: asyncio.Future[Any], outcome: _Outcome) -> None:
    if future.cancelled():
        return
    ok, value = outcome
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


def _engine(path: str, *, immediate: bool) -> Any:
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"check_same_thread": False, "timeout": 30},
        poolclass=StaticPool,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy, not the driver, begins transactions
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if immediate:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
