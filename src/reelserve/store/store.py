"""The Store facade: one Database, one repository per table."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from reelserve.store.attempts import AttemptStore
from reelserve.store.db import Database
from reelserve.store.deliveries import DeliveryStore
from reelserve.store.handoffs import HandoffStore
from reelserve.store.keys import KeyStore
from reelserve.store.migrate import migrate
from reelserve.store.personas import PersonaStore
from reelserve.store.postgres import TASKS_CHANGED, Handler, Listener
from reelserve.store.tasks import TaskStore
from reelserve.store.uploads import UploadStore
from reelserve.store.workers import WorkerStore


class Store:
    def __init__(self, url: str, read_cache_s: float = 1.0) -> None:
        self.db = Database(url)
        self.tasks = TaskStore(self.db, read_cache_s)
        self.keys = KeyStore(self.db)
        self.deliveries = DeliveryStore(self.db)
        self.uploads = UploadStore(self.db)
        self.workers = WorkerStore(self.db)
        self.personas = PersonaStore(self.db)
        self.handoffs = HandoffStore(self.db)
        self.attempts = AttemptStore(self.db)

    async def open(self) -> None:
        """Apply migrations; call once before use."""
        await migrate(self.db)

    async def ping(self) -> None:
        """One round trip to the database (readiness); DatabaseUnavailable when it is down."""
        await self.db.read(lambda conn: conn.execute(select(1)).scalar())

    async def close(self) -> None:
        await self.db.dispose()

    def listener(self, handlers: Mapping[str, Handler]) -> Listener | None:
        """A LISTEN loop calling `handlers` by channel (store/postgres.py), which also
        keeps this process's task cache fresh; None on SQLite (nothing to listen to)."""
        if self.db.is_sqlite:
            return None
        return Listener(self.db.url, {TASKS_CHANGED: self._forget, **handlers})

    def _forget(self, payload: str) -> None:
        if payload:
            self.tasks.forget(payload.split(","))
        else:  # (re)connected: changes made meanwhile were not announced to us
            self.tasks.forget_all()
