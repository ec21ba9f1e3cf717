"""Row <-> domain conversion."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import RowMapping

from reelserve.tasks.models import Dialect, Result, Status, Task


def task_from_row(row: RowMapping | dict[str, Any]) -> Task:
    result = row["result"]
    return Task(
        id=row["id"],
        seq=row["seq"],
        api_key_id=row["api_key_id"],
        dialect=Dialect(row["dialect"]),
        operation=row["operation"],
        engine=row["engine"],
        status=Status(row["status"]),
        params=dict(row["params"] or {}),
        request=dict(row["request"] or {}),
        parent_id=row["parent_id"],
        callback_url=row["callback_url"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        progress=row["progress"],
        attempts=row["attempts"],
        lease_token=row["lease_token"],
        lease_expires_at=row["lease_expires_at"],
        fail_code=row["fail_code"],
        fail_msg=row["fail_msg"] or "",
        result=Result.from_json(result) if result else None,
        media_expired_at=row["media_expired_at"],
        worker_id=row["worker_id"],
        cost=row["cost"],
        credits_charged=row["credits_charged"],
        credits_refunded=bool(row["credits_refunded"]),
        cancel_requested_at=row.get("cancel_requested_at"),
        deleted_at=row.get("deleted_at"),
    )
