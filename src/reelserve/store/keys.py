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
    rate_limit: int = 20
    """New tasks per 10 seconds; 0 is unlimited."""
    max_concurrent: int = 0
    """Tasks running at once; more wait in the queue. 0 is unlimited."""
    max_queued: int = 0
    """Tasks waiting at once; more are refused (429). 0 is unlimited."""
    credits: int | None = None
    """Credit balance when the key was read; None is unlimited."""

    @property
    def limited(self) -> bool:
        """Whether admitting a task needs the database (limits or a finite balance)."""
        return self.rate_limit > 0 or self.max_queued > 0 or self.credits is not None

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
        rate_limit=m["rate_limit"],
        max_concurrent=m["max_concurrent"],
        max_queued=m["max_queued"],
        credits=m["credits"],
    )


class KeyStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        name: str,
        key_hash: str,
        key_prefix: str,
        webhook_hmac_key: str | None = None,
        *,
        rate_limit: int = 20,
        max_concurrent: int = 0,
        max_queued: int = 0,
        credits: int | None = None,
    ) -> ApiKey:
        key = ApiKey(
            uuid.uuid4().hex,
            name,
            key_prefix,
            time.time(),
            None,
            rate_limit=rate_limit,
            max_concurrent=max_concurrent,
            max_queued=max_queued,
            credits=credits,
        )
        stmt = api_keys.insert().values(
            id=key.id,
            name=name,
            key_hash=key_hash,
            key_prefix=key_prefix,
            created_at=key.created_at,
            webhook_hmac_key=webhook_hmac_key,
            rate_limit=rate_limit,
            max_concurrent=max_concurrent,
            max_queued=max_queued,
            credits=credits,
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

    async def update(self, name: str, **values: object) -> bool:
        """Change a key's settings (webhook_hmac_key, rate_limit, max_concurrent,
        max_queued); False if there is no key of that name."""
        allowed = {"webhook_hmac_key", "rate_limit", "max_concurrent", "max_queued", "credits"}
        unknown = set(values) - allowed
        if unknown:
            raise ValueError(f"cannot update {sorted(unknown)}")
        stmt = update(api_keys).where(api_keys.c.name == name).values(**values)
        return await self._db.write(lambda conn: bool(conn.execute(stmt).rowcount))

    async def balance(self, api_key_id: str) -> int | None:
        """The key's credits now (not cached); None for unlimited."""
        stmt = select(api_keys.c.credits).where(api_keys.c.id == api_key_id)
        value = await self._db.read(lambda conn: conn.scalar(stmt))
        return None if value is None else int(value)

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
