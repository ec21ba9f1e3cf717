"""Apply Alembic migrations at start, on the same connection code path as everything else."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from reelserve.store.db import Database
from reelserve.store.postgres import lock_for_migrations

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _upgrade(connection: Connection) -> None:
    # Several processes may start at once on one PostgreSQL database.
    lock_for_migrations(connection)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def migrate(db: Database) -> None:
    """Bring the schema to the newest revision; safe to call on every start."""
    await db.write(_upgrade)
