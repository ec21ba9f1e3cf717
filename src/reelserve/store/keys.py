"""API key persistence. Only hashes are stored; the key itself is shown once at creation."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from reelserve.store.db import Database
from reelserve.store.tables import api_keys


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    key_prefix: str
    created_at: float
    revoked_at: float | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class DuplicateKeyName(Exception):
    """An API key with this name already exists"""


def _key_from_row(m: Any) -> ApiKey:
    return ApiKey(
        id=m["id"],
        name=m["name"],
        key_prefix=m["key_prefix"],
        created_at=m["created_at"],
        revoked_at=m["revoked_at"],
    )


class KeyStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self, name: str, key_hash: str, key_prefix: str, webhook_hmac_key: str | None = None
    ) -> ApiKey:
        key = ApiKey(uuid.uuid4().hex, name, key_prefix, time.time(), None)
        stmt = api_keys.insert().values(
            id=key.id,
            name=name,
            key_hash=key_hash,
            key_prefix=key_prefix,
            created_at=key.created_at,
            webhook_hmac_key=webhook_hmac_key,
        )
        try:
            await self._db.write(lambda conn: conn.execute(stmt))
        except IntegrityError:
            raise DuplicateKeyName(name) from None
        return key

    async def by_hash(self, key_hash: str) -> ApiKey | None:
        def op(conn: Connection) -> ApiKey | None:
            stmt = select(api_keys).where(api_keys.c.key_hash == key_hash)
            row = conn.execute(stmt).mappings().first()
            return _key_from_row(row) if row else None

        return await self._db.read(op)

    async def list(self) -> list[ApiKey]:
        def op(conn: Connection) -> list[ApiKey]:
            rows = conn.execute(select(api_keys).order_by(api_keys.c.created_at)).mappings().all()
            return [_key_from_row(r) for r in rows]

        return await self._db.read(op)

    async def set_webhook_key(self, name: str, webhook_hmac_key: str | None) -> bool:
        """Set (rotate) or clear a key's webhook HMAC key; False if no such key."""
        stmt = (
            update(api_keys)
            .where(api_keys.c.name == name)
            .values(webhook_hmac_key=webhook_hmac_key)
        )
        return await self._db.write(lambda conn: bool(conn.execute(stmt).rowcount))

    async def webhook_key(self, api_key_id: str) -> str | None:
        stmt = select(api_keys.c.webhook_hmac_key).where(api_keys.c.id == api_key_id)
        value = await self._db.read(lambda conn: conn.scalar(stmt))
        return str(value) if value else None

    async def revoke(self, name: str) -> bool:
        stmt = (
            update(api_keys)
            .where(api_keys.c.name == name, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=time.time())
        )
        return await self._db.write(lambda conn: bool(conn.execute(stmt).rowcount))
