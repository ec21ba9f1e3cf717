"""API key persistence. Only hashes are stored; the key itself is shown once at creation."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
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


def _key_from_row(row: object) -> ApiKey:
    m = row._mapping  # type: ignore[attr-defined]
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

    async def create(self, name: str, key_hash: str, key_prefix: str) -> ApiKey:
        values = {
            "id": uuid.uuid4().hex,
            "name": name,
            "key_hash": key_hash,
            "key_prefix": key_prefix,
            "created_at": time.time(),
        }
        try:
            async with self._db.write() as conn:
                await conn.execute(api_keys.insert().values(**values))
        except IntegrityError:
            raise DuplicateKeyName(name) from None
        return ApiKey(values["id"], name, key_prefix, float(values["created_at"]), None)  # type: ignore[arg-type]

    async def by_hash(self, key_hash: str) -> ApiKey | None:
        async with self._db.read() as conn:
            row = (await conn.execute(select(api_keys).where(api_keys.c.key_hash == key_hash))).first()
        return _key_from_row(row) if row else None

    async def list(self) -> list[ApiKey]:
        async with self._db.read() as conn:
            rows = (await conn.execute(select(api_keys).order_by(api_keys.c.created_at))).all()
        return [_key_from_row(r) for r in rows]

    async def revoke(self, name: str) -> bool:
        async with self._db.write() as conn:
            result = await conn.execute(
                update(api_keys)
                .where(api_keys.c.name == name, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=time.time())
            )
        return bool(result.rowcount)
