"""The Store facade: one Database, one repository per table."""

from __future__ import annotations

from reelserve.store.db import Database
from reelserve.store.deliveries import DeliveryStore
from reelserve.store.keys import KeyStore
from reelserve.store.migrate import migrate
from reelserve.store.tasks import TaskStore
from reelserve.store.uploads import UploadStore


class Store:
    def __init__(self, url: str, read_cache_s: float = 1.0) -> None:
        self.db = Database(url)
        self.tasks = TaskStore(self.db, read_cache_s)
        self.keys = KeyStore(self.db)
        self.deliveries = DeliveryStore(self.db)
        self.uploads = UploadStore(self.db)

    async def open(self) -> None:
        """Apply migrations; call once before use."""
        await migrate(self.db)

    async def close(self) -> None:
        await self.db.dispose()
