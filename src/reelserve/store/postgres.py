"""PostgreSQL-only behaviour, kept in this one place (as `sqlite.py` is for SQLite).

- Migrations from several processes starting at once (an API node and its
  workers) are serialised by a transaction-scoped advisory lock: the first
  applies them, the others find the schema current.
- NOTIFY: store functions call `notify(conn, channel, payload)` inside the
  transaction that made the change; PostgreSQL delivers it only if that
  transaction commits, so a listener never wakes for a row it cannot see.
  On SQLite it does nothing (one process; the pollers cover other processes).
- `Listener`: one dedicated asyncpg connection per process that LISTENs and
  calls a handler per notification. It reconnects with back-off; after every
  (re)connect each handler is called once with an empty payload, because
  notifications sent while it was away are lost. The callers' fallback poll
  bounds the wait if the connection dies unnoticed.
- Which errors mean "the database cannot be reached right now"
  (`unavailable`): a refused or lost connection, a server shutting down or
  starting up, no room (disk, memory, connections). asyncpg is not imported
  for that: its errors carry their SQLSTATE.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection, make_url

log = logging.getLogger("reelserve.store")

TASKS_QUEUED = "reelserve_tasks_queued"
"""Payload: the engine of a task that became runnable (inserted or released)."""
TASKS_CHANGED = "reelserve_tasks_changed"
"""Payload: comma-separated ids of tasks whose row changed (read caches drop them)."""
DELIVERIES_DUE = "reelserve_deliveries_due"
"""Payload: empty; a delivery was inserted and is due now."""

_MIGRATION_LOCK = 0x7265656C  # "reel": one number every reelserve process agrees on
_PAYLOAD_MAX = 7000  # NOTIFY payloads must stay under 8000 bytes


# SQLSTATE classes: 08 connection exception, 53 insufficient resources (disk full,
# out of memory, too many connections), 57P operator intervention (shutdown,
# starting up), 58 system error (I/O).
_UNAVAILABLE_SQLSTATES = ("08", "53", "57P", "58")
_CLOSED_TEXTS = ("connection is closed", "connection was closed", "underlying connection is closed")


def unavailable(exc: BaseException) -> str | None:
    """Why `exc` means PostgreSQL cannot be used now (None: it is another error)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return f"the connection was lost: {_first_line(current)}"
        if isinstance(current, sa_exc.TimeoutError):
            return f"no database connection free in time: {_first_line(current)}"
        if isinstance(current, OSError):
            return f"{type(current).__name__}: {current}"
        sqlstate = getattr(current, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATES):
            return f"{type(current).__name__} ({sqlstate}): {_first_line(current)}"
        if "InterfaceError" in type(current).__name__ and any(
            t in str(current).lower() for t in _CLOSED_TEXTS
        ):
            return f"the connection was lost: {_first_line(current)}"
        # SQLAlchemy keeps the driver's error in `orig` (and as the cause).
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return None


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def is_postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def lock_for_migrations(conn: Connection) -> None:
    """Hold the migration lock until this transaction ends (PostgreSQL only)."""
    if is_postgres(conn):
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})


def notify(conn: Connection, channel: str, payload: str = "") -> None:
    """NOTIFY `channel` when this transaction commits (PostgreSQL only).

    PostgreSQL folds identical notifications of one transaction into one.
    """
    if is_postgres(conn):
        conn.execute(select(func.pg_notify(channel, payload)))


def notify_ids(conn: Connection, channel: str, ids: list[str]) -> None:
    """`notify` with ids joined by commas, split to fit the payload limit."""
    if not ids or not is_postgres(conn):
        return
    chunk: list[str] = []
    size = 0
    for task_id in ids:
        if chunk and size + len(task_id) + 1 > _PAYLOAD_MAX:
            notify(conn, channel, ",".join(chunk))
            chunk, size = [], 0
        chunk.append(task_id)
        size += len(task_id) + 1
    notify(conn, channel, ",".join(chunk))


def asyncpg_dsn(url: str) -> str:
    """The libpq-style DSN of a SQLAlchemy URL (`postgresql+asyncpg://` -> `postgresql://`)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


Handler = Callable[[str], None]


class Listener:
    """LISTEN on `handlers`' channels over one connection; call the handler per payload.

    Example::

        listener = Listener(url, {TASKS_QUEUED: lambda engine: worker.wake()})
        task = asyncio.create_task(listener.run())
        ...
        listener.stop()
    """

    def __init__(self, url: str, handlers: Mapping[str, Handler], *, check_s: float = 10.0) -> None:
        self._dsn = asyncpg_dsn(url)
        self._handlers = dict(handlers)
        self._check_s = check_s
        self._stopping = asyncio.Event()
        self._failures = 0
        self.connected = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        delay = 0.5
        while not self._stopping.is_set():
            try:
                await self._listen()
                delay = 0.5
            except Exception as exc:
                # One line per outage: the first failure, then (in _listen) the reconnect.
                self._failures += 1
                if self._failures == 1:
                    log.warning("LISTEN connection lost (%s); reconnecting", exc)
                else:
                    log.debug("LISTEN reconnect failed (%s); again in %.1f s", exc, delay)
            self.connected.clear()
            if self._stopping.is_set():
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
            delay = min(delay * 2, 10.0)

    async def _listen(self) -> None:
        import asyncpg

        conn = await asyncpg.connect(self._dsn)
        lost = asyncio.Event()
        try:
            conn.add_termination_listener(lambda _c: lost.set())
            for channel in self._handlers:
                await conn.add_listener(channel, self._dispatch)
            self.connected.set()
            if self._failures:
                log.warning("LISTEN connection restored after %d failed attempt(s)", self._failures)
                self._failures = 0
            for handler in self._handlers.values():
                self._call(handler, "")  # whatever happened while we were not listening
            while not self._stopping.is_set() and not lost.is_set():
                waiter = asyncio.ensure_future(self._stopping.wait())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(waiter), self._check_s)
                waiter.cancel()
                if not self._stopping.is_set():
                    # A dead TCP peer is only noticed when something is sent.
                    await asyncio.wait_for(conn.fetchval("SELECT 1"), self._check_s)
            if lost.is_set() and not self._stopping.is_set():
                raise ConnectionError("the server closed the connection")
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 5)

    def _dispatch(self, _conn: Any, _pid: int, channel: str, payload: str) -> None:
        handler = self._handlers.get(channel)
        if handler is not None:
            self._call(handler, payload)

    @staticmethod
    def _call(handler: Handler, payload: str) -> None:
        try:
            handler(payload)
        except Exception:
            log.exception("notification handler failed")
