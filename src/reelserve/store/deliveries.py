"""Delivery persistence: the outbox rows, their leased claim, and recorded attempts."""

from __future__ import annotations

import secrets
import time
from collections.abc import Collection
from typing import Any

from sqlalchemy import and_, case, exists, func, insert, or_, select, update
from sqlalchemy.engine import Connection

from reelserve.callbacks.models import Attempt, Delivery, DeliveryState, NewDelivery, origin_of
from reelserve.store.db import Database
from reelserve.store.postgres import DELIVERIES_DUE, notify
from reelserve.store.tables import deliveries, delivery_attempts


def insert_delivery(conn: Connection, new: NewDelivery, now: float | None = None) -> None:
    """Insert a pending delivery; called inside the transaction that ends its task."""
    now = time.time() if now is None else now
    conn.execute(
        insert(deliveries).values(
            id=new.id,
            webhook_id=new.webhook_id,
            task_id=new.task_id,
            api_key_id=new.api_key_id,
            url=new.url,
            origin=origin_of(new.url),
            body=new.body,
            stage=new.stage,
            state=DeliveryState.PENDING.value,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
    )
    notify(conn, DELIVERIES_DUE)


def _delivery(row: Any) -> Delivery:
    return Delivery(
        id=row["id"],
        webhook_id=row["webhook_id"],
        task_id=row["task_id"],
        api_key_id=row["api_key_id"],
        url=row["url"],
        body=row["body"],
        state=DeliveryState(row["state"]),
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        lease_token=row["lease_token"],
        created_at=row["created_at"],
        stage=str(row["stage"] or ""),
    )


_EARLIER = deliveries.alias("earlier")
_IN_ORDER = or_(
    deliveries.c.stage == "",
    ~exists().where(
        _EARLIER.c.task_id == deliveries.c.task_id,
        _EARLIER.c.seq < deliveries.c.seq,
        _EARLIER.c.state == DeliveryState.PENDING.value,
        _EARLIER.c.stage != "",
    ),
)
"""A staged callback (Suno's `text`, `first`, `complete`) waits while an earlier stage of
its task is still pending, so a receiver gets them in order, retries included; a stage
that is given up on (abandoned, failed) no longer holds the next one back."""


class DeliveryStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def insert(self, new: NewDelivery) -> None:
        await self._db.write(lambda conn: insert_delivery(conn, new))

    async def claim_due(
        self, limit: int, lease_s: float, skip_origins: Collection[str] = ()
    ) -> list[Delivery]:
        """Lease up to `limit` due deliveries, oldest first, in one statement.

        `skip_origins` are receivers the caller cannot send to now (at their bound).
        """
        now = time.time()
        due = and_(
            deliveries.c.state == DeliveryState.PENDING.value,
            deliveries.c.next_attempt_at <= now,
            or_(deliveries.c.lease_expires_at.is_(None), deliveries.c.lease_expires_at < now),
            _IN_ORDER,
        )
        if skip_origins:
            due = and_(due, deliveries.c.origin.not_in(list(skip_origins)))
        candidates = (
            select(deliveries.c.seq)
            .where(due)
            .order_by(deliveries.c.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        stmt = (
            update(deliveries)
            .where(deliveries.c.seq.in_(candidates.scalar_subquery()), due)
            .values(lease_token=secrets.token_hex(16), lease_expires_at=now + lease_s)
            .returning(deliveries)
        )

        def op(conn: Connection) -> list[Delivery]:
            return [_delivery(r) for r in conn.execute(stmt).mappings().all()]

        return await self._db.write(op)

    async def record(
        self,
        delivery: Delivery,
        attempt: Attempt,
        state: DeliveryState,
        next_attempt_at: float | None,
    ) -> bool:
        """Record an attempt and the delivery's new state; False if the lease was lost."""
        stmt = (
            update(deliveries)
            .where(deliveries.c.id == delivery.id, deliveries.c.lease_token == delivery.lease_token)
            .values(
                state=state.value,
                attempts=deliveries.c.attempts + 1,
                next_attempt_at=next_attempt_at if next_attempt_at is not None else attempt.at,
                lease_token=None,
                lease_expires_at=None,
                updated_at=time.time(),
            )
        )

        def op(conn: Connection) -> bool:
            # The attempt happened whatever the lease says, so it is always recorded.
            conn.execute(
                insert(delivery_attempts).values(
                    delivery_id=delivery.id,
                    at=attempt.at,
                    http_status=attempt.http_status,
                    error=attempt.error,
                    duration_ms=attempt.duration_ms,
                    response=attempt.response,
                )
            )
            return bool(conn.execute(stmt).rowcount)

        return await self._db.write(op)

    async def for_task(self, task_id: str) -> list[tuple[Delivery, list[Attempt]]]:
        """A task's deliveries, oldest first, each with its attempts."""

        def op(conn: Connection) -> list[tuple[Delivery, list[Attempt]]]:
            rows = (
                conn.execute(
                    select(deliveries)
                    .where(deliveries.c.task_id == task_id)
                    .order_by(deliveries.c.seq)
                )
                .mappings()
                .all()
            )
            out = []
            for row in rows:
                attempts = (
                    conn.execute(
                        select(delivery_attempts)
                        .where(delivery_attempts.c.delivery_id == row["id"])
                        .order_by(delivery_attempts.c.id)
                    )
                    .mappings()
                    .all()
                )
                out.append(
                    (
                        _delivery(row),
                        [
                            Attempt(
                                a["at"],
                                a["http_status"],
                                a["error"],
                                a["duration_ms"],
                                str(a["response"] or ""),
                            )
                            for a in attempts
                        ],
                    )
                )
            return out

        return await self._db.read(op)

    async def next_due(self) -> float | None:
        """When the earliest pending delivery can next be claimed (for the loop's sleep).

        One being sent right now counts from when its lease lapses, not from
        its due time: else the loop would spin while a slow receiver holds it.
        A stage held back by an earlier one does not count (the earlier one's
        end wakes the loop).
        """
        now = time.time()
        claimable_at = case(
            (deliveries.c.lease_expires_at > now, deliveries.c.lease_expires_at),
            else_=deliveries.c.next_attempt_at,
        )
        stmt = select(func.min(claimable_at)).where(
            deliveries.c.state == DeliveryState.PENDING.value, _IN_ORDER
        )
        return await self._db.read(lambda conn: conn.scalar(stmt))
