"""Task persistence: insert, read, the atomic leased claim, and lease-checked outcomes."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Collection
from typing import Any, TypeAlias

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement

from reelserve.callbacks.models import NewDelivery
from reelserve.store.batch import InsertBatcher
from reelserve.store.cache import TtlCache
from reelserve.store.db import Database
from reelserve.store.deliveries import insert_delivery
from reelserve.store.rows import task_from_row
from reelserve.store.tables import tasks
from reelserve.tasks.models import NewTask, Result, Status, Task

DeliveryFor: TypeAlias = Callable[[Task], NewDelivery | None] | None
"""Builds the callback delivery of a task in its final state (the outbox row)."""

_FINISHED = [Status.SUCCEEDED.value, Status.FAILED.value, Status.CANCELED.value]

# Hot statements are built once: constructing a statement costs more than running it.
_INSERT = tasks.insert()
_GET = select(tasks).where(tasks.c.id == bindparam("id"))
_AHEAD = (
    select(func.count())
    .select_from(tasks)
    .where(tasks.c.status == Status.QUEUED.value, tasks.c.seq < bindparam("seq"))
)


class TaskStore:
    def __init__(self, db: Database, cache_s: float = 1.0) -> None:
        self._db = db
        self._tasks: TtlCache[Task] = TtlCache(cache_s)
        self._positions: TtlCache[int] = TtlCache(cache_s)
        self._inserts = InsertBatcher(self._insert_rows)

    async def insert(self, new: NewTask) -> None:
        now = time.time()
        values = {
            "id": new.id,
            "api_key_id": new.api_key_id,
            "dialect": new.dialect.value,
            "operation": new.operation,
            "engine": new.engine,
            "status": Status.QUEUED.value,
            "params": new.params,
            "request": new.request,
            "parent_id": new.parent_id,
            "callback_url": new.callback_url,
            "created_at": now,
            "updated_at": now,
            "progress": 0.0,
            "attempts": 0,
            "fail_msg": "",
        }

        await self._inserts.insert(values)

    async def _insert_rows(self, rows: list[dict[str, Any]]) -> None:
        await self._db.write(lambda conn: conn.execute(_INSERT, rows))

    async def get(self, task_id: str, *, fresh: bool = False) -> Task | None:
        """The task, possibly from the read cache unless `fresh` (see store/cache.py)."""
        if not fresh and (cached := self._tasks.get(task_id)) is not None:
            return cached

        def op(conn: Connection) -> Task | None:
            row = conn.execute(_GET, {"id": task_id}).mappings().first()
            return task_from_row(row) if row else None

        task = await self._db.read(op)
        if task is not None:
            self._tasks.put(task_id, task)
        return task

    async def queue_position(self, task: Task) -> int:
        """1 for the next task to be claimed, 2 for the one after it, and so on."""
        if (cached := self._positions.get(task.id)) is not None:
            return cached
        ahead = await self._db.read(lambda conn: conn.scalar(_AHEAD, {"seq": task.seq}))
        position = int(ahead or 0) + 1
        self._positions.put(task.id, position)
        return position

    async def claim(
        self, worker_id: str, engines: Collection[str], lease_s: float, max_attempts: int = 3
    ) -> Task | None:
        """Take the oldest runnable task for one of `engines` in one atomic statement.

        Runnable means queued, or running with an expired lease (its worker died)
        and attempts left. The lease token returned with the task must accompany
        every later write.
        """
        now = time.time()
        runnable = or_(
            tasks.c.status == Status.QUEUED.value,
            and_(
                tasks.c.status == Status.RUNNING.value,
                tasks.c.lease_expires_at < now,
                tasks.c.attempts < max_attempts,
            ),
        )
        candidate = (
            select(tasks.c.seq)
            .where(runnable, tasks.c.engine.in_(list(engines)))
            .order_by(tasks.c.seq)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        stmt = (
            update(tasks)
            .where(tasks.c.seq == candidate, runnable)
            .values(
                status=Status.RUNNING.value,
                lease_token=secrets.token_hex(16),
                lease_expires_at=now + lease_s,
                worker_id=worker_id,
                attempts=tasks.c.attempts + 1,
                started_at=func.coalesce(tasks.c.started_at, now),
                updated_at=now,
                progress=0.0,
            )
            .returning(tasks)
        )

        def op(conn: Connection) -> Task | None:
            row = conn.execute(stmt).mappings().first()
            return task_from_row(row) if row else None

        task = await self._db.write(op)
        if task is not None:
            self._tasks.drop([task.id])
        return task

    async def heartbeat(self, task_id: str, token: str, lease_s: float, progress: float) -> bool:
        """Extend the lease and record progress; False when the lease was lost."""
        now = time.time()
        return await self._update_leased(
            task_id, token, lease_expires_at=now + lease_s, progress=progress, updated_at=now
        )

    async def succeed(
        self, task_id: str, token: str, result: Result, delivery: DeliveryFor = None
    ) -> bool:
        """Record success and, in the same transaction, the task's callback delivery.

        `delivery` builds the delivery from the finished task (None: no callback).
        """
        now = time.time()
        return await self._update_leased(
            task_id,
            token,
            delivery=delivery,
            status=Status.SUCCEEDED.value,
            result=result.to_json(),
            progress=1.0,
            finished_at=now,
            updated_at=now,
            lease_token=None,
            lease_expires_at=None,
        )

    async def fail(
        self, task_id: str, token: str, fail_code: int, fail_msg: str, delivery: DeliveryFor = None
    ) -> bool:
        now = time.time()
        return await self._update_leased(
            task_id,
            token,
            delivery=delivery,
            **_failure(fail_code, fail_msg, now),
        )

    async def release(self, task_id: str, token: str) -> bool:
        """Give a claimed task back to the queue (another attempt will run it)."""
        return await self._update_leased(
            task_id,
            token,
            status=Status.QUEUED.value,
            lease_token=None,
            lease_expires_at=None,
            worker_id=None,
            progress=0.0,
            updated_at=time.time(),
        )

    async def fail_exhausted(
        self, max_attempts: int, fail_msg: str, delivery: DeliveryFor = None
    ) -> int:
        """Fail tasks whose last allowed attempt lost its lease; returns how many."""
        now = time.time()
        exhausted = select(tasks).where(
            tasks.c.status == Status.RUNNING.value,
            tasks.c.lease_expires_at < now,
            tasks.c.attempts >= max_attempts,
        )

        def op(conn: Connection) -> list[str]:
            failed = []
            for row in conn.execute(exhausted).mappings().all():
                task = task_from_row(row)
                if task.lease_token and _write_leased(
                    conn, task.id, task.lease_token, delivery, _failure(500, fail_msg, now)
                ):
                    failed.append(task.id)
            return failed

        failed = await self._db.write(op)
        self._tasks.drop(failed)
        return len(failed)

    async def held_by(self, worker_prefix: str) -> list[Task]:
        """Running tasks whose worker id starts with `worker_prefix` (e.g. `host:`)."""
        return await self._select(
            tasks.c.status == Status.RUNNING.value, tasks.c.worker_id.startswith(worker_prefix)
        )

    async def media_due(self, finished_before: float, limit: int = 100) -> list[Task]:
        """Finished tasks older than the retention cut-off whose media is not yet deleted."""
        return await self._select(
            tasks.c.finished_at < finished_before,
            tasks.c.media_expired_at.is_(None),
            tasks.c.status.in_(_FINISHED),
            limit=limit,
        )

    async def mark_media_expired(self, task_ids: Collection[str]) -> None:
        if not task_ids:
            return
        now = time.time()
        stmt = (
            update(tasks)
            .where(tasks.c.id.in_(list(task_ids)), tasks.c.media_expired_at.is_(None))
            .values(media_expired_at=now, updated_at=now)
        )
        await self._db.write(lambda conn: conn.execute(stmt))
        self._tasks.drop(task_ids)

    async def _select(self, *where: ColumnElement[bool], limit: int | None = None) -> list[Task]:
        stmt = select(tasks).where(*where).order_by(tasks.c.seq).limit(limit)

        def op(conn: Connection) -> list[Task]:
            return [task_from_row(r) for r in conn.execute(stmt).mappings().all()]

        return await self._db.read(op)

    async def _update_leased(
        self, task_id: str, token: str, delivery: DeliveryFor = None, **values: Any
    ) -> bool:
        changed = await self._db.write(
            lambda conn: _write_leased(conn, task_id, token, delivery, values)
        )
        self._tasks.drop([task_id])
        return changed


def _failure(fail_code: int, fail_msg: str, now: float) -> dict[str, Any]:
    return {
        "status": Status.FAILED.value,
        "fail_code": fail_code,
        "fail_msg": fail_msg,
        "finished_at": now,
        "updated_at": now,
        "lease_token": None,
        "lease_expires_at": None,
    }


def _write_leased(
    conn: Connection, task_id: str, token: str, delivery: DeliveryFor, values: dict[str, Any]
) -> bool:
    """Update a task only while `token` holds its lease; insert its delivery in the same
    transaction when the update ends it.

    The token check is what stops a worker whose lease expired from overwriting
    the outcome of the attempt that replaced it.
    """
    stmt = (
        update(tasks)
        .where(
            tasks.c.id == task_id,
            tasks.c.lease_token == token,
            tasks.c.status == Status.RUNNING.value,
        )
        .values(**values)
        .returning(tasks)
    )
    row = conn.execute(stmt).mappings().first()
    if row is None:
        return False
    if delivery is not None:
        task = task_from_row(row)
        if task.status.finished and (new := delivery(task)) is not None:
            insert_delivery(conn, new)
    return True
