"""Each attempt at a task, as its worker ended it: when, where, on which engine, how.

Written by the worker when an attempt ends (best effort: the task's own row is
the record of truth; a lost line here loses only history), read by the console.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from reelserve.store.db import Database
from reelserve.store.tables import task_attempts

ERROR_MAX = 2000


@dataclass(frozen=True)
class AttemptRecord:
    task_id: str
    attempt: int
    engine: str
    worker_id: str
    started_at: float
    ended_at: float
    outcome: str
    """succeeded, failed, crashed (queued again), fell_back, canceled, given_back, lease_lost."""
    error: str = ""


def _record(row: Any) -> AttemptRecord:
    return AttemptRecord(
        task_id=row["task_id"],
        attempt=int(row["attempt"]),
        engine=row["engine"],
        worker_id=row["worker_id"],
        started_at=float(row["started_at"]),
        ended_at=float(row["ended_at"]),
        outcome=row["outcome"],
        error=row["error"] or "",
    )


class AttemptStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, record: AttemptRecord) -> None:
        stmt = insert(task_attempts).values(
            task_id=record.task_id,
            attempt=record.attempt,
            engine=record.engine,
            worker_id=record.worker_id,
            started_at=record.started_at,
            ended_at=record.ended_at,
            outcome=record.outcome,
            error=record.error[:ERROR_MAX],
        )
        await self._db.write(lambda conn: conn.execute(stmt))

    async def of_task(self, task_id: str) -> list[AttemptRecord]:
        stmt = (
            select(task_attempts)
            .where(task_attempts.c.task_id == task_id)
            .order_by(task_attempts.c.id)
        )

        def op(conn: Connection) -> list[AttemptRecord]:
            return [_record(r) for r in conn.execute(stmt).mappings().all()]

        return await self._db.read(op)
