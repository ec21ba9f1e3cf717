"""Test databases on either backend: a SQLite file, or a fresh PostgreSQL database.

Every server and store on PostgreSQL gets a database of its own (CREATE
DATABASE on the cluster `./scripts/test` starts), so tests stay as isolated
as they are with one SQLite file each. It is dropped when the test is done.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from tests.services import require_service

BACKENDS = ("sqlite", "postgres")
PG_ENV = "REELSERVE_TEST_DATABASE_URL"

T = TypeVar("T")


def run_coro(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` on a loop of its own (callers may already be inside one)."""
    out: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            out.append(asyncio.run(coro))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return out[0]


async def _admin(admin_url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def admin_url() -> str:
    """The cluster's superuser URL (skips, or fails under CI, when there is none)."""
    return require_service(PG_ENV, "PostgreSQL")


def create_pg_database() -> tuple[str, str]:
    """A new empty database: (its name, its SQLAlchemy URL)."""
    admin = admin_url()
    name = f"rs_{uuid.uuid4().hex[:16]}"
    run_coro(_admin(admin, f'CREATE DATABASE "{name}"'))
    base = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return name, f"{base}/{name}"


def drop_pg_database(name: str) -> None:
    run_coro(_admin(admin_url(), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def database_url(backend: str, data_dir: Path) -> Iterator[str]:
    """A database URL for one server or store on `backend`, gone afterwards."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{(data_dir / 'reelserve.db').resolve()}"
        return
    if backend != "postgres":
        raise ValueError(f"unknown backend {backend!r} (allowed: {', '.join(BACKENDS)})")
    name, url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(name)
