"""The store reads the console needs: tasks filtered and paged, queue depth, key usage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement

from reelserve.store.rows import task_from_row
from reelserve.store.store import Store
from reelserve.store.tables import tasks
from reelserve.tasks.models import Status, Task

PAGE = 50


@dataclass(frozen=True)
class TaskFilter:
    """What the task list shows; empty fields do not filter."""

    status: str = ""
    family: str = ""
    model: str = ""
    key_id: str = ""
    since: float | None = None
    until: float | None = None
    before: int | None = None
    """Paging: tasks older than this `seq` (the previous page's last)."""

    def where(self) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = [tasks.c.deleted_at.is_(None)]
        if self.status:
            clauses.append(tasks.c.status == self.status)
        if self.family:
            clauses.append(tasks.c.dialect == self.family)
        if self.model:
            clauses.append(tasks.c.params["model"].as_string() == self.model)
        if self.key_id:
            clauses.append(tasks.c.api_key_id == self.key_id)
        if self.since is not None:
            clauses.append(tasks.c.created_at >= self.since)
        if self.until is not None:
            clauses.append(tasks.c.created_at < self.until)
        if self.before is not None:
            clauses.append(tasks.c.seq < self.before)
        return clauses


async def task_page(store: Store, chosen: TaskFilter, limit: int = PAGE) -> list[Task]:
    """Newest first; one more than `limit` is read to know whether a next page exists."""
    stmt = select(tasks).where(and_(*chosen.where())).order_by(tasks.c.seq.desc()).limit(limit + 1)

    def op(conn: Connection) -> list[Task]:
        return [task_from_row(r) for r in conn.execute(stmt).mappings().all()]

    return await store.db.read(op)


async def tasks_by_id(store: Store, ids: list[str]) -> list[Task]:
    stmt = select(tasks).where(tasks.c.id.in_(ids))

    def op(conn: Connection) -> list[Task]:
        return [task_from_row(r) for r in conn.execute(stmt).mappings().all()]

    return await store.db.read(op) if ids else []


@dataclass(frozen=True)
class Queue:
    by_engine: dict[str, int]
    oldest_created_at: float | None
    by_status: dict[str, int]


async def queue(store: Store) -> Queue:
    queued = Status.QUEUED.value
    depth = (
        select(tasks.c.engine, func.count())
        .where(tasks.c.status == queued, tasks.c.deleted_at.is_(None))
        .group_by(tasks.c.engine)
    )
    oldest = select(func.min(tasks.c.created_at)).where(tasks.c.status == queued)
    statuses = select(tasks.c.status, func.count()).group_by(tasks.c.status)

    def op(conn: Connection) -> Queue:
        return Queue(
            {str(e): int(n) for e, n in conn.execute(depth).all()},
            conn.scalar(oldest),
            {str(s): int(n) for s, n in conn.execute(statuses).all()},
        )

    return await store.db.read(op)


@dataclass(frozen=True)
class Usage:
    tasks: int = 0
    running: int = 0
    credits_spent: int = 0


async def key_usage(store: Store) -> dict[str, Usage]:
    """Per key id: tasks made, tasks running, credits spent (charged and not refunded)."""
    spent = func.sum(case((tasks.c.credits_refunded, 0), else_=tasks.c.credits_charged))
    running = func.sum(case((tasks.c.status == Status.RUNNING.value, 1), else_=0))
    stmt = select(tasks.c.api_key_id, func.count(), running, spent).group_by(tasks.c.api_key_id)

    def op(conn: Connection) -> dict[str, Usage]:
        out: dict[str, Usage] = {}
        for key_id, count, run, credits in conn.execute(stmt).all():
            out[str(key_id)] = Usage(int(count), int(run or 0), int(credits or 0))
        return out

    return await store.db.read(op)


def models_seen(rows: list[Task]) -> list[str]:
    return sorted({str(t.params.get("model") or "") for t in rows} - {""})


def as_float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
