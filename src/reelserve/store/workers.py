"""Worker rows: who is running, on which host and engines, and when it last said so."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from reelserve.store.db import Database
from reelserve.store.tables import tasks, workers
from reelserve.tasks.models import Status


@dataclass(frozen=True)
class WorkerInfo:
    id: str
    host: str
    pid: int
    engines: tuple[str, ...]
    concurrency: int
    started_at: float
    heartbeat_at: float = 0.0
    tasks: tuple[str, ...] = field(default=())
    """Ids of the tasks it holds now (running under its id)."""


class WorkerStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def beat(self, info: WorkerInfo, now: float | None = None) -> None:
        """Record that the worker is alive; (re)creates its row if it is missing."""
        at = time.time() if now is None else now

        def op(conn: Connection) -> None:
            changed = conn.execute(
                update(workers).where(workers.c.id == info.id).values(heartbeat_at=at)
            ).rowcount
            if not changed:
                conn.execute(
                    insert(workers).values(
                        id=info.id,
                        host=info.host,
                        pid=info.pid,
                        engines=",".join(info.engines),
                        concurrency=info.concurrency,
                        started_at=info.started_at,
                        heartbeat_at=at,
                    )
                )

        await self._db.write(op)

    async def remove(self, worker_id: str) -> None:
        stmt = delete(workers).where(workers.c.id == worker_id)
        await self._db.write(lambda conn: conn.execute(stmt))

    async def prune(self, silent_for_s: float) -> int:
        """Forget workers not heard from for `silent_for_s` (killed long ago)."""
        stmt = delete(workers).where(workers.c.heartbeat_at < time.time() - silent_for_s)
        return await self._db.write(lambda conn: int(conn.execute(stmt).rowcount or 0))

    async def list(self) -> list[WorkerInfo]:
        """Every known worker, oldest first, with the tasks it holds now."""

        def op(conn: Connection) -> list[WorkerInfo]:
            rows = conn.execute(select(workers).order_by(workers.c.started_at)).mappings().all()
            held: dict[str, list[str]] = {}
            running = select(tasks.c.id, tasks.c.worker_id).where(
                tasks.c.status == Status.RUNNING.value,
                tasks.c.worker_id.in_([r["id"] for r in rows]),
            )
            for task_id, worker_id in conn.execute(running.order_by(tasks.c.seq)).all():
                held.setdefault(worker_id, []).append(task_id)
            return [
                WorkerInfo(
                    id=r["id"],
                    host=r["host"],
                    pid=r["pid"],
                    engines=tuple(e for e in r["engines"].split(",") if e),
                    concurrency=r["concurrency"],
                    started_at=r["started_at"],
                    heartbeat_at=r["heartbeat_at"],
                    tasks=tuple(held.get(r["id"], ())),
                )
                for r in rows
            ]

        return await self._db.read(op)
