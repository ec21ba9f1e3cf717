"""SQLite-only behaviour, kept in this one place.

- WAL journal so readers never block the writer, and a busy timeout so
  concurrent processes (server, `reelserve keys ...`) wait instead of failing.
- The driver's own transaction handling is turned off and SQLAlchemy emits
  BEGIN itself: write transactions use BEGIN IMMEDIATE, taking the write lock
  up front, so two read-then-write transactions can never deadlock on upgrade
  (which SQLite reports as SQLITE_BUSY without waiting).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

WRITE_OPTION = "reelserve_write"


def configure(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
