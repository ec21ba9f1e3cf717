"""Upload persistence: one row per stored upload, found by its blob key or its expiry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import ColumnElement

from reelserve.store.db import Database
from reelserve.store.tables import uploads


@dataclass(frozen=True)
class Upload:
    id: str
    api_key_id: str
    blob_key: str
    size: int
    mime: str
    created_at: float
    expires_at: float


def _upload(row: Any) -> Upload:
    return Upload(
        id=row["id"],
        api_key_id=row["api_key_id"],
        blob_key=row["blob_key"],
        size=int(row["size"]),
        mime=row["mime"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
    )


class UploadStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, upload: Upload) -> None:
        """Insert the row, replacing the one of an earlier upload to the same key."""

        def op(conn: Connection) -> None:
            conn.execute(delete(uploads).where(uploads.c.blob_key == upload.blob_key))
            conn.execute(
                insert(uploads).values(
                    id=upload.id,
                    api_key_id=upload.api_key_id,
                    blob_key=upload.blob_key,
                    size=upload.size,
                    mime=upload.mime,
                    created_at=upload.created_at,
                    expires_at=upload.expires_at,
                )
            )

        await self._db.write(op)

    async def record_once(self, upload: Upload) -> bool:
        """Insert the row unless one with its id exists (a one-time upload URL used twice):
        True if this call recorded it."""
        stmt = insert(uploads).values(
            id=upload.id,
            api_key_id=upload.api_key_id,
            blob_key=upload.blob_key,
            size=upload.size,
            mime=upload.mime,
            created_at=upload.created_at,
            expires_at=upload.expires_at,
        )

        def op(conn: Connection) -> bool:
            try:
                with conn.begin_nested():
                    conn.execute(stmt)
            except IntegrityError:
                return False
            return True

        return await self._db.write(op)

    async def by_id(self, upload_id: str) -> Upload | None:
        return await self._one(uploads.c.id == upload_id)

    async def by_key(self, blob_key: str) -> Upload | None:
        return await self._one(uploads.c.blob_key == blob_key)

    async def _one(self, where: ColumnElement[bool]) -> Upload | None:
        stmt = select(uploads).where(where)

        def op(conn: Connection) -> Upload | None:
            row = conn.execute(stmt).mappings().first()
            return _upload(row) if row else None

        return await self._db.read(op)

    async def expired(self, now: float, limit: int = 500) -> list[Upload]:
        """Uploads whose retention ended by `now`, oldest first."""
        stmt = (
            select(uploads)
            .where(uploads.c.expires_at <= now)
            .order_by(uploads.c.expires_at)
            .limit(limit)
        )
        return await self._db.read(
            lambda conn: [_upload(r) for r in conn.execute(stmt).mappings().all()]
        )

    async def remove(self, upload_id: str) -> bool:
        """Delete one row by id; False if it was already gone (or replaced)."""
        stmt = delete(uploads).where(uploads.c.id == upload_id)
        return await self._db.write(lambda conn: bool(conn.execute(stmt).rowcount))
