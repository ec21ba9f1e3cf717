"""What `/metrics` reads from the database at scrape time (observability/db_metrics.py):
the queue by engine, running tasks by engine, pending callbacks, credit balances by key."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from reelserve.callbacks.models import DeliveryState
from reelserve.store.tables import api_keys, deliveries, tasks
from reelserve.tasks.models import Status


@dataclass(frozen=True)
class Snapshot:
    queued: dict[str, tuple[int, float]]
    """engine -> (queued tasks, created_at of the oldest)."""
    running: dict[str, int]
    """engine -> running tasks."""
    callbacks_pending: int
    credits: dict[str, int]
    """key name -> balance, for keys with a finite balance that are not revoked."""


def snapshot(conn: Connection) -> Snapshot:
    queued = conn.execute(
        select(tasks.c.engine, func.count(), func.min(tasks.c.created_at))
        .where(tasks.c.status == Status.QUEUED.value)
        .group_by(tasks.c.engine)
    ).all()
    running = conn.execute(
        select(tasks.c.engine, func.count())
        .where(tasks.c.status == Status.RUNNING.value)
        .group_by(tasks.c.engine)
    ).all()
    pending = conn.execute(
        select(func.count())
        .select_from(deliveries)
        .where(deliveries.c.state == DeliveryState.PENDING.value)
    ).scalar_one()
    credits = conn.execute(
        select(api_keys.c.name, api_keys.c.credits).where(
            api_keys.c.credits.is_not(None), api_keys.c.revoked_at.is_(None)
        )
    ).all()
    return Snapshot(
        queued={str(e): (int(n), float(oldest)) for e, n, oldest in queued},
        running={str(e): int(n) for e, n in running},
        callbacks_pending=int(pending),
        credits={str(name): int(balance) for name, balance in credits},
    )
