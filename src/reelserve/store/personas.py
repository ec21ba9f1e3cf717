"""Persona persistence (Suno's `generate-persona`): one row per persona, one persona per track."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from reelserve.store.db import Database
from reelserve.store.tables import personas


@dataclass(frozen=True)
class Persona:
    id: str
    api_key_id: str
    task_id: str
    audio_id: str
    name: str
    description: str
    created_at: float


class PersonaExists(Exception):
    """The track already has a persona (KIE's 409)."""


def _persona(row: Any) -> Persona:
    return Persona(
        id=row["id"],
        api_key_id=row["api_key_id"],
        task_id=row["task_id"],
        audio_id=row["audio_id"],
        name=row["name"],
        description=row["description"],
        created_at=float(row["created_at"]),
    )


class PersonaStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, persona: Persona) -> None:
        """Insert it; `PersonaExists` when its track has one already."""

        def op(conn: Connection) -> bool:
            taken = conn.execute(
                select(personas.c.id).where(personas.c.audio_id == persona.audio_id)
            ).first()
            if taken is not None:
                return False
            conn.execute(
                insert(personas).values(
                    id=persona.id,
                    api_key_id=persona.api_key_id,
                    task_id=persona.task_id,
                    audio_id=persona.audio_id,
                    name=persona.name,
                    description=persona.description,
                    created_at=persona.created_at,
                )
            )
            return True

        try:
            created = await self._db.write(op)
        except IntegrityError:  # a racing insert for the same track
            created = False
        if not created:
            raise PersonaExists(persona.audio_id)

    async def get(self, persona_id: str) -> Persona | None:
        def op(conn: Connection) -> Persona | None:
            row = conn.execute(select(personas).where(personas.c.id == persona_id)).mappings()
            found = row.first()
            return _persona(found) if found is not None else None

        return await self._db.read(op)

    async def for_track(self, audio_id: str) -> Persona | None:
        def op(conn: Connection) -> Persona | None:
            stmt = select(personas).where(personas.c.audio_id == audio_id)
            found = conn.execute(stmt).mappings().first()
            return _persona(found) if found is not None else None

        return await self._db.read(op)
