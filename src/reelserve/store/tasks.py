"""Task persistence: insert, read, the atomic leased claim, and lease-checked outcomes."""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from sqlalchemy import and_, bindparam, case, delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import ColumnElement

from reelserve.callbacks.models import NewDelivery
from reelserve.errors import (
    InsufficientCredits,
    QueueFull,
    RateLimited,
    ReelserveError,
    ValidationFailed,
)
from reelserve.store.batch import InsertBatcher
from reelserve.store.cache import TtlCache
from reelserve.store.db import Database
from reelserve.store.deliveries import insert_delivery
from reelserve.store.postgres import TASKS_CHANGED, TASKS_QUEUED, notify, notify_ids
from reelserve.store.rows import task_from_row
from reelserve.store.tables import api_keys, idempotency_keys, tasks
from reelserve.tasks.models import NewTask, Result, Status, Task


@dataclass(frozen=True)
class Admission:
    """A key's limits on new tasks (0: unlimited) and the task's price in credits."""

    api_key_id: str
    rate_limit: int
    max_queued: int
    price: int = 0
    window_s: float = 10.0


_Row: TypeAlias = tuple[dict[str, Any], Admission | None]

DeliveryFor: TypeAlias = Callable[[Task], NewDelivery | None] | None
"""Builds the callback delivery of a task in its final state (the outbox row)."""
Ended: TypeAlias = Callable[[Task, str], None] | None
"""Told of each task a call ended, with its outcome (`observability/metrics.py` counts)."""

_CLAIM_TRIES = 4
IDEMPOTENCY_S = 24 * 3600
"""How long an `Idempotency-Key` answers with its first task."""
_IDEMPOTENCY = "__idempotency"


class DuplicateCreate(Exception):
    """A create retried with the same `Idempotency-Key` and request: the first task's id."""

    def __init__(self, task_id: str) -> None:
        super().__init__(task_id)
        self.task_id = task_id


@dataclass(frozen=True)
class Beat:
    """A heartbeat's answer: true while the lease holds; `cancel` when asked to stop."""

    alive: bool
    cancel: bool = False

    def __bool__(self) -> bool:
        return self.alive


"""Keys found at their concurrency limit at the last moment before a claim gives up."""

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
        self._inserts: InsertBatcher[_Row] = InsertBatcher(self._insert_rows)

    async def insert(
        self,
        new: NewTask,
        admission: Admission | None = None,
        idempotency: tuple[str, str] | None = None,
    ) -> None:
        """Insert a queued task; with `admission`, only within the key's limits.

        The limits are checked in the transaction that inserts the row, so
        concurrent submits can never exceed them: RateLimited (with the
        seconds to wait) or QueueFull is raised instead. `idempotency`
        (the client's `Idempotency-Key`, a hash of its request) is recorded in
        the same transaction: a key used in the last 24 h raises
        `DuplicateCreate` with the first task's id (nothing inserted, nothing
        charged), or ValidationFailed when the request differs.
        """
        now = time.time()
        values: dict[str, Any] = {
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
            "cost": new.cost,
            "credits_charged": 0,
            "credits_refunded": False,
        }
        if idempotency is not None:
            values[_IDEMPOTENCY] = idempotency
        await self._inserts.insert((values, admission))

    async def _insert_rows(self, rows: list[_Row]) -> list[BaseException | None]:
        return await self._db.write(lambda conn: _insert_admitted(conn, rows, time.time()))

    async def get(self, task_id: str, *, fresh: bool = False) -> Task | None:
        """The task, possibly from the read cache unless `fresh` (see store/cache.py)."""
        if not fresh and (cached := self._tasks.get(task_id)) is not None:
            return cached
        if "\x00" in task_id:
            # No id holds a NUL, and PostgreSQL refuses NUL in text: an unknown id.
            return None

        def op(conn: Connection) -> Task | None:
            row = conn.execute(_GET, {"id": task_id}).mappings().first()
            return task_from_row(row) if row else None

        since = self._tasks.stamp()
        task = await self._db.read(op)
        if task is not None:
            self._tasks.put(task_id, task, since)
        return task

    async def queue_position(self, task: Task) -> int:
        """1 for the next task to be claimed, 2 for the one after it, and so on."""
        if (cached := self._positions.get(task.id)) is not None:
            return cached
        since = self._positions.stamp()
        ahead = await self._db.read(lambda conn: conn.scalar(_AHEAD, {"seq": task.seq}))
        position = int(ahead or 0) + 1
        self._positions.put(task.id, position, since)
        return position

    async def running_of_key(self, api_key_id: str) -> int:
        """How many of the key's tasks run now (a live lease): its concurrency in use."""
        stmt = (
            select(func.count())
            .select_from(tasks)
            .where(
                tasks.c.api_key_id == api_key_id,
                tasks.c.status == Status.RUNNING.value,
                tasks.c.lease_expires_at >= time.time(),
            )
        )
        count: int | None = await self._db.read(lambda conn: conn.scalar(stmt))
        return int(count or 0)

    async def created_since(
        self, api_key_id: str, dialect: str, since: float, limit: int = 10_000
    ) -> list[Task]:
        """The key's tasks of `dialect` created since `since`, oldest first (usage counts)."""
        return await self._select(
            tasks.c.api_key_id == api_key_id,
            tasks.c.dialect == dialect,
            tasks.c.created_at >= since,
            limit=limit,
        )

    async def claim(
        self,
        worker_id: str,
        engines: Collection[str],
        lease_s: float,
        max_attempts: int = 3,
        caps: Mapping[str, int] | None = None,
    ) -> Task | None:
        """Take the next runnable task for one of `engines` in one atomic statement.

        Runnable means queued, or running with an expired lease (its worker died)
        and attempts left, of a key below its `max_concurrent` (others wait in
        the queue). Fair share: the task comes from the key served least
        recently, oldest first within a key, so one key's burst cannot starve
        another. The lease token returned with the task must accompany every
        later write. `caps` limits how many tasks of an engine run at once (an
        upstream's concurrency): an engine at its cap has its tasks left queued.
        """
        now = time.time()

        def runnable(t: Any) -> ColumnElement[bool]:
            return or_(
                t.c.status == Status.QUEUED.value,
                and_(
                    t.c.status == Status.RUNNING.value,
                    t.c.lease_expires_at < now,
                    t.c.attempts < max_attempts,
                    t.c.cancel_requested_at.is_(None),
                ),
            )

        t = tasks.alias("t")
        other = tasks.alias("other")

        def running_alike(column: str) -> Any:
            """How many live running tasks share the candidate's `column` (key, engine)."""
            return (
                select(func.count())
                .select_from(other)
                .where(
                    other.c[column] == t.c[column],
                    other.c.status == Status.RUNNING.value,
                    other.c.lease_expires_at >= now,
                )
                .correlate(t)
                .scalar_subquery()
            )

        running_of_key = running_alike("api_key_id")
        limit = func.coalesce(api_keys.c.max_concurrent, 0)
        capped = {e: n for e, n in (caps or {}).items() if n > 0 and e in engines}
        under_cap: list[ColumnElement[bool]] = []
        if capped:
            cap = case(capped, value=t.c.engine, else_=0)
            running_of_engine = running_alike("engine")
            under_cap.append(or_(cap == 0, running_of_engine < cap))

        def claim_stmt(skip_keys: list[str]) -> Any:
            candidate = (
                select(t.c.seq)
                .select_from(t.outerjoin(api_keys, api_keys.c.id == t.c.api_key_id))
                .where(
                    runnable(t),
                    t.c.engine.in_(list(engines)),
                    or_(limit == 0, running_of_key < limit),
                    *under_cap,
                    *([t.c.api_key_id.not_in(skip_keys)] if skip_keys else []),
                )
                .order_by(func.coalesce(api_keys.c.last_claimed_at, 0.0), t.c.seq)
                .limit(1)
                .with_for_update(of=t, skip_locked=True)
                .scalar_subquery()
            )
            return (
                update(tasks)
                .where(tasks.c.seq == candidate, runnable(tasks))
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
            skip_keys: list[str] = []
            for _ in range(_CLAIM_TRIES):
                savepoint = conn.begin_nested()
                row = conn.execute(claim_stmt(skip_keys)).mappings().first()
                if row is None:
                    savepoint.rollback()
                    return None
                if _within_concurrency(conn, row["api_key_id"], now):
                    savepoint.commit()
                    notify_ids(conn, TASKS_CHANGED, [row["id"]])
                    return task_from_row(row)
                # Another worker started one of this key's tasks since our snapshot:
                # undo (the savepoint also frees the row locks) and look past the key.
                savepoint.rollback()
                skip_keys.append(row["api_key_id"])
            return None

        task = await self._db.write(op)
        if task is not None:
            self._tasks.drop([task.id])
        return task

    def forget(self, task_ids: Collection[str]) -> None:
        """Drop cached reads of tasks another process changed (see store/postgres.py)."""
        self._tasks.drop(task_ids)
        self._positions.drop(task_ids)

    def forget_all(self) -> None:
        self._tasks.clear()
        self._positions.clear()

    async def heartbeat(self, task_id: str, token: str, lease_s: float, progress: float) -> Beat:
        """Extend the lease and record progress: a `Beat`, false when the lease was lost,
        whose `cancel` says the task was asked to stop."""
        now = time.time()
        stmt = (
            update(tasks)
            .where(
                tasks.c.id == task_id,
                tasks.c.lease_token == token,
                tasks.c.status == Status.RUNNING.value,
            )
            .values(lease_expires_at=now + lease_s, progress=progress, updated_at=now)
            .returning(tasks.c.cancel_requested_at)
        )
        row = await self._db.write(lambda conn: conn.execute(stmt).first())
        self._tasks.drop([task_id])
        if row is None:
            return Beat(False)
        return Beat(True, cancel=row[0] is not None)

    async def cancel(
        self, task_id: str, delivery: DeliveryFor = None, ended: Ended = None
    ) -> Task | None:
        """Cancel a task: a queued one (or a running one whose worker is gone) at once —
        canceled, refunded and its callback recorded in one transaction; a running one is
        marked, and its worker stops it. A finished one is left as it is. The task after.

        `ended(task, "canceled")` is called once committed when this call ended the task.
        """
        now = time.time()
        ending: list[Task] = []

        def op(conn: Connection) -> Task | None:
            row = conn.execute(select(tasks).where(tasks.c.id == task_id)).mappings().first()
            if row is None:
                return None
            task = task_from_row(row)
            if task.status.finished:
                return task
            stale = task.status is Status.RUNNING and (task.lease_expires_at or 0) < now
            if task.status is Status.QUEUED or stale:
                ended = (
                    update(tasks)
                    .where(tasks.c.id == task_id, tasks.c.status == task.status.value)
                    .values(**_canceled(now))
                    .returning(tasks)
                )
                done = conn.execute(ended).mappings().first()
                if done is not None:
                    canceled = task_from_row(done)
                    _refund(conn, canceled)
                    if delivery is not None and (new := delivery(canceled)) is not None:
                        insert_delivery(conn, new)
                    notify_ids(conn, TASKS_CHANGED, [task_id])
                    ending[:] = [canceled]
                    return canceled
            asked = (
                update(tasks)
                .where(tasks.c.id == task_id, tasks.c.status == Status.RUNNING.value)
                .values(cancel_requested_at=func.coalesce(tasks.c.cancel_requested_at, now))
                .returning(tasks)
            )
            marked = conn.execute(asked).mappings().first()
            notify_ids(conn, TASKS_CHANGED, [task_id])
            if marked is None:  # it ended meanwhile (PostgreSQL: between our two statements)
                marked = conn.execute(select(tasks).where(tasks.c.id == task_id)).mappings().one()
            return task_from_row(marked)

        task = await self._db.write(op)
        self._tasks.drop([task_id])
        if ended is not None:
            for done in ending:
                ended(done, Status.CANCELED.value)
        return task

    async def canceled(self, task_id: str, token: str, delivery: DeliveryFor = None) -> bool:
        """Its worker ends a running task that was asked to stop: canceled (refunded, the
        callback recorded), written only while `token` holds the lease."""
        return await self._update_leased(task_id, token, delivery, **_canceled(time.time()))

    async def delete(self, task_id: str) -> None:
        """Hide a task from reads by id (Runway's DELETE); cancel it first."""
        now = time.time()
        stmt = update(tasks).where(tasks.c.id == task_id).values(deleted_at=now, updated_at=now)

        def op(conn: Connection) -> None:
            conn.execute(stmt)
            notify_ids(conn, TASKS_CHANGED, [task_id])

        await self._db.write(op)
        self._tasks.drop([task_id])

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

    async def stage(
        self, task_id: str, token: str, partial: Result, delivery: DeliveryFor = None
    ) -> bool:
        """Record a running task's partial result (a Suno stage: the lyrics, then the
        first track) and, in the same transaction, that stage's callback delivery.

        The task stays running; False when the lease was lost.
        """
        now = time.time()
        return await self._update_leased(
            task_id,
            token,
            delivery,
            staged=True,
            result=partial.to_json(),
            updated_at=now,
        )

    async def children(self, parent_id: str) -> list[Task]:
        """The tasks made from `parent_id` (a song's WAV, stems, video, cover...), oldest first."""
        return await self._select(tasks.c.parent_id == parent_id)

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

    async def release(self, task_id: str, token: str, *, count_attempt: bool = True) -> bool:
        """Give a claimed task back to the queue (another attempt will run it).

        `count_attempt=False` (a worker shutting down gave it back) takes the
        attempt back, so restarts of workers never use up a task's attempts.
        """
        extra: dict[str, Any] = {} if count_attempt else {"attempts": tasks.c.attempts - 1}
        return await self._update_leased(
            task_id,
            token,
            None,
            **extra,
            status=Status.QUEUED.value,
            lease_token=None,
            lease_expires_at=None,
            worker_id=None,
            progress=0.0,
            updated_at=time.time(),
        )

    async def reroute(self, task_id: str, token: str, engine: str, params: dict[str, Any]) -> bool:
        """Queue the task again for the next engine of its route (a fallback), with that
        engine's full attempt budget; `params` records what was tried. False: lease lost."""
        return await self._update_leased(
            task_id,
            token,
            None,
            engine=engine,
            params=params,
            attempts=0,
            status=Status.QUEUED.value,
            lease_token=None,
            lease_expires_at=None,
            worker_id=None,
            progress=0.0,
            result=None,
            updated_at=time.time(),
        )

    async def fail_exhausted(
        self, max_attempts: int, fail_msg: str, delivery: DeliveryFor = None, ended: Ended = None
    ) -> int:
        """Fail tasks whose last allowed attempt lost its lease; returns how many.

        `ended(task, outcome)` is called for each once committed ("failed", or "canceled"
        for a task asked to stop whose worker died).
        """
        now = time.time()
        exhausted = select(tasks).where(
            tasks.c.status == Status.RUNNING.value,
            tasks.c.lease_expires_at < now,
            or_(tasks.c.attempts >= max_attempts, tasks.c.cancel_requested_at.is_not(None)),
        )

        def op(conn: Connection) -> list[tuple[Task, str]]:
            failed = []
            for row in conn.execute(exhausted).mappings().all():
                task = task_from_row(row)
                # A task asked to stop whose worker died is canceled, not run again.
                outcome = (
                    _canceled(now)
                    if task.cancel_requested_at is not None
                    else _failure(500, fail_msg, now)
                )
                if task.lease_token and _write_leased(
                    conn, task.id, task.lease_token, delivery, outcome
                ):
                    failed.append((task, str(outcome["status"])))
            return failed

        failed = await self._db.write(op)
        self._tasks.drop([task.id for task, _outcome in failed])
        if ended is not None:
            for task, outcome in failed:
                ended(task, outcome)
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
        ids = list(task_ids)

        def op(conn: Connection) -> None:
            conn.execute(stmt)
            notify_ids(conn, TASKS_CHANGED, ids)

        await self._db.write(op)
        self._tasks.drop(task_ids)

    async def _select(self, *where: ColumnElement[bool], limit: int | None = None) -> list[Task]:
        stmt = select(tasks).where(*where).order_by(tasks.c.seq).limit(limit)

        def op(conn: Connection) -> list[Task]:
            return [task_from_row(r) for r in conn.execute(stmt).mappings().all()]

        return await self._db.read(op)

    async def _update_leased(
        self,
        task_id: str,
        token: str,
        delivery: DeliveryFor = None,
        *,
        staged: bool = False,
        **values: Any,
    ) -> bool:
        changed = await self._db.write(
            lambda conn: _write_leased(conn, task_id, token, delivery, values, staged=staged)
        )
        self._tasks.drop([task_id])
        return changed


def _within_concurrency(conn: Connection, api_key_id: str, now: float) -> bool:
    """Record the claim on the key row (the fair-share order) and check its limit.

    Updating the key row locks it until commit, so claims of one key take
    turns here; the count that follows is a new statement, which on
    PostgreSQL (read committed) sees every claim committed before the lock was
    granted, this one included. Without it two workers claiming at the same
    instant could both count `max_concurrent - 1` and start one task too many.
    """
    limit = conn.execute(
        update(api_keys)
        .where(api_keys.c.id == api_key_id)
        .values(last_claimed_at=now)
        .returning(api_keys.c.max_concurrent)
    ).scalar()
    if not limit:
        return True
    running = conn.scalar(
        select(func.count())
        .select_from(tasks)
        .where(
            tasks.c.api_key_id == api_key_id,
            tasks.c.status == Status.RUNNING.value,
            tasks.c.lease_expires_at >= now,
        )
    )
    return int(running or 0) <= int(limit)


def _insert_admitted(conn: Connection, rows: list[_Row], now: float) -> list[BaseException | None]:
    """Insert the rows in order; a row over its key's limits is skipped with its error.

    Rows without limits go in as multi-row inserts; a limited row first locks
    its key (PostgreSQL: FOR UPDATE; SQLite has one writer) and counts that
    key's recent and queued tasks, the earlier rows of this batch included.
    """
    outcomes: list[BaseException | None] = []
    plain: list[dict[str, Any]] = []

    def flush_plain() -> None:
        if plain:
            conn.execute(_INSERT, list(plain))
            plain.clear()

    for row, admission in rows:
        # Not popped: a batch that fails is run again, one row at a time.
        idempotency = row.get(_IDEMPOTENCY)
        values = {k: v for k, v in row.items() if k != _IDEMPOTENCY}
        if admission is None and idempotency is None:
            plain.append(values)
            outcomes.append(None)
            continue
        flush_plain()
        refusal: BaseException | None = None
        if idempotency is not None:
            refusal = _earlier_create(conn, values["api_key_id"], idempotency, now)
        if refusal is None and admission is not None:
            refusal = _refusal(conn, admission, now)
        if refusal is None and idempotency is not None:
            refusal = _claim_idempotency(conn, values, idempotency, now)
        if refusal is None:
            charged = _charge(conn, admission) if admission is not None else 0
            if isinstance(charged, ReelserveError):
                refusal = charged
            else:
                conn.execute(_INSERT, {**values, "credits_charged": charged})
        outcomes.append(refusal)
    flush_plain()
    admitted = zip(rows, outcomes, strict=True)
    for engine in sorted({row["engine"] for (row, _), refused in admitted if not refused}):
        notify(conn, TASKS_QUEUED, engine)
    return outcomes


def _earlier_create(
    conn: Connection, api_key_id: str, idempotency: tuple[str, str], now: float
) -> BaseException | None:
    """The answer for a key already used in the last 24 h; None when it is new (or stale)."""
    key, request_hash = idempotency
    row = (
        conn.execute(
            select(idempotency_keys).where(
                idempotency_keys.c.api_key_id == api_key_id,
                idempotency_keys.c.key == key,
                idempotency_keys.c.created_at > now - IDEMPOTENCY_S,
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    if row["request_hash"] != request_hash:
        return ValidationFailed(
            "Idempotency-Key",
            "was used for a different request in the last 24 hours (send a new key)",
        )
    return DuplicateCreate(str(row["task_id"]))


def _claim_idempotency(
    conn: Connection, values: dict[str, Any], idempotency: tuple[str, str], now: float
) -> BaseException | None:
    """Record the key for this task. A concurrent create that recorded it first (the
    primary key refuses the second; PostgreSQL makes it wait for the first to commit)
    makes this one its duplicate."""
    key, request_hash = idempotency
    api_key_id = values["api_key_id"]
    savepoint = conn.begin_nested()
    try:
        conn.execute(
            delete(idempotency_keys).where(
                idempotency_keys.c.api_key_id == api_key_id,
                idempotency_keys.c.key == key,
                idempotency_keys.c.created_at <= now - IDEMPOTENCY_S,
            )
        )
        conn.execute(
            insert(idempotency_keys).values(
                api_key_id=api_key_id,
                key=key,
                request_hash=request_hash,
                task_id=values["id"],
                created_at=now,
            )
        )
    except IntegrityError:
        savepoint.rollback()
        return _earlier_create(conn, api_key_id, idempotency, now) or DuplicateCreate("")
    savepoint.commit()
    return None


def _refusal(conn: Connection, admission: Admission, now: float) -> ReelserveError | None:
    key = admission.api_key_id
    conn.execute(select(api_keys.c.id).where(api_keys.c.id == key).with_for_update())
    if admission.rate_limit:
        since = now - admission.window_s
        recent = tasks.c.api_key_id == key, tasks.c.created_at > since
        count = conn.scalar(select(func.count()).select_from(tasks).where(*recent)) or 0
        if count >= admission.rate_limit:
            oldest = conn.scalar(select(func.min(tasks.c.created_at)).where(*recent)) or now
            wait = max(1, math.ceil(oldest + admission.window_s - now))
            return RateLimited(
                f"Rate limit exceeded: at most {admission.rate_limit} new tasks per "
                f"{admission.window_s:g} seconds for this key; retry in {wait} s",
                headers={"Retry-After": str(wait)},
            )
    if admission.max_queued:
        queued = conn.scalar(
            select(func.count())
            .select_from(tasks)
            .where(tasks.c.api_key_id == key, tasks.c.status == Status.QUEUED.value)
        )
        if (queued or 0) >= admission.max_queued:
            return QueueFull()
    return None


def _charge(conn: Connection, admission: Admission) -> int | ReelserveError:
    """Take the price from a finite balance (the key row is locked); what was taken."""
    if admission.price <= 0:
        return 0
    balance = conn.scalar(select(api_keys.c.credits).where(api_keys.c.id == admission.api_key_id))
    if balance is None:
        return 0  # unlimited
    if balance < admission.price:
        return InsufficientCredits(
            f"Insufficient credits: this task costs {admission.price}, the balance is {balance}"
        )
    conn.execute(
        update(api_keys)
        .where(api_keys.c.id == admission.api_key_id)
        .values(credits=api_keys.c.credits - admission.price)
    )
    return admission.price


def _refund(conn: Connection, task: Task) -> None:
    """Give a failed task's credits back, once."""
    if task.credits_charged <= 0 or task.credits_refunded:
        return
    conn.execute(
        update(api_keys)
        .where(api_keys.c.id == task.api_key_id, api_keys.c.credits.is_not(None))
        .values(credits=api_keys.c.credits + task.credits_charged)
    )
    conn.execute(update(tasks).where(tasks.c.id == task.id).values(credits_refunded=True))


def _canceled(now: float) -> dict[str, Any]:
    return {
        "status": Status.CANCELED.value,
        "fail_msg": "",
        "finished_at": now,
        "updated_at": now,
        "lease_token": None,
        "lease_expires_at": None,
    }


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
    conn: Connection,
    task_id: str,
    token: str,
    delivery: DeliveryFor,
    values: dict[str, Any],
    *,
    staged: bool = False,
) -> bool:
    """Update a task only while `token` holds its lease; insert its delivery in the same
    transaction when the update ends it (or records a stage: `staged`).

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
    task = task_from_row(row)
    if task.status is not Status.RUNNING or staged:  # heartbeats change only progress
        notify_ids(conn, TASKS_CHANGED, [task.id])
    if task.status is Status.QUEUED:
        notify(conn, TASKS_QUEUED, task.engine)
    if task.status in (Status.FAILED, Status.CANCELED):
        _refund(conn, task)
    ends = task.status.finished or staged
    if delivery is not None and ends and (new := delivery(task)) is not None:
        insert_delivery(conn, new)
    return True
