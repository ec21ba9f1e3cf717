"""Upstream hand-offs: a task's upstream task id, written under the task's lease.

`submitting` is written before the upstream is asked and counts the
submissions; it first touches the task row where the lease token still
matches (which on PostgreSQL locks it until commit), so a worker whose lease
lapsed cannot start a submission for an attempt that is no longer its own.
`accepted` records the upstream's task id the moment it answers, lease or
not: the first id recorded wins.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from reelserve.store.db import Database
from reelserve.store.tables import handoffs, tasks
from reelserve.tasks.models import Status

SUBMITTING = "submitting"
ACCEPTED = "accepted"


@dataclass(frozen=True)
class Handoff:
    task_id: str
    engine: str
    state: str
    upstream_id: str | None
    submissions: int
    detail: dict[str, Any]
    created_at: float
    updated_at: float

    @property
    def accepted(self) -> bool:
        return self.state == ACCEPTED and bool(self.upstream_id)


def _handoff(row: Any) -> Handoff:
    return Handoff(
        task_id=row["task_id"],
        engine=row["engine"],
        state=row["state"],
        upstream_id=row["upstream_id"],
        submissions=int(row["submissions"] or 0),
        detail=dict(row["detail"] or {}),
        created_at=float(row["created_at"]),
        updated_at=float(row["updated_at"]),
    )


def _holds_lease(conn: Connection, task_id: str, token: str, now: float) -> bool:
    touched = conn.execute(
        update(tasks)
        .where(
            tasks.c.id == task_id,
            tasks.c.lease_token == token,
            tasks.c.status == Status.RUNNING.value,
        )
        .values(updated_at=now)
        .returning(tasks.c.id)
    ).first()
    return touched is not None


def _select(conn: Connection, task_id: str, engine: str) -> Handoff | None:
    row = (
        conn.execute(
            select(handoffs).where(handoffs.c.task_id == task_id, handoffs.c.engine == engine)
        )
        .mappings()
        .first()
    )
    return _handoff(row) if row is not None else None


class HandoffStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, task_id: str, engine: str) -> Handoff | None:
        return await self._db.read(lambda conn: _select(conn, task_id, engine))

    async def of_task(self, task_id: str) -> list[Handoff]:
        stmt = select(handoffs).where(handoffs.c.task_id == task_id).order_by(handoffs.c.created_at)

        def op(conn: Connection) -> list[Handoff]:
            return [_handoff(r) for r in conn.execute(stmt).mappings().all()]

        return await self._db.read(op)

    async def submitting(self, task_id: str, token: str, engine: str) -> Handoff | None:
        """Note a submission about to be sent; None when the lease was lost.

        An accepted hand-off is returned as it is (nothing is to be sent).
        """
        now = time.time()

        def op(conn: Connection) -> Handoff | None:
            if not _holds_lease(conn, task_id, token, now):
                return None
            found = _select(conn, task_id, engine)
            if found is not None and found.accepted:
                return found
            if found is None:
                conn.execute(
                    insert(handoffs).values(
                        task_id=task_id,
                        engine=engine,
                        state=SUBMITTING,
                        upstream_id=None,
                        submissions=1,
                        detail={},
                        created_at=now,
                        updated_at=now,
                    )
                )
            else:
                conn.execute(
                    update(handoffs)
                    .where(handoffs.c.task_id == task_id, handoffs.c.engine == engine)
                    .values(submissions=handoffs.c.submissions + 1, updated_at=now)
                )
            return _select(conn, task_id, engine)

        return await self._db.write(op)

    async def accepted(
        self, task_id: str, engine: str, upstream_id: str, detail: dict[str, Any]
    ) -> str:
        """Record the upstream's task id; the id recorded (an earlier one wins).

        Not lease-checked: once the upstream has accepted a task, knowing its id
        is what keeps any later attempt from submitting (and paying) again.
        """
        now = time.time()

        def op(conn: Connection) -> str:
            conn.execute(
                update(handoffs)
                .where(
                    handoffs.c.task_id == task_id,
                    handoffs.c.engine == engine,
                    handoffs.c.state != ACCEPTED,
                )
                .values(state=ACCEPTED, upstream_id=upstream_id, detail=detail, updated_at=now)
            )
            found = _select(conn, task_id, engine)
            return (
                str(found.upstream_id) if found is not None and found.upstream_id else upstream_id
            )

        return await self._db.write(op)

    async def note(self, task_id: str, engine: str, detail: dict[str, Any]) -> None:
        """Replace the hand-off's detail (what was learnt of the upstream task, e.g. track ids)."""
        stmt = (
            update(handoffs)
            .where(handoffs.c.task_id == task_id, handoffs.c.engine == engine)
            .values(detail=detail, updated_at=time.time())
        )
        await self._db.write(lambda conn: conn.execute(stmt))
