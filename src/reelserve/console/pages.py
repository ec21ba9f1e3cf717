"""What each console page shows, shaped for its template (no HTML here)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from reelserve.blobs.links import MediaLinks
from reelserve.callbacks.models import Attempt, Delivery
from reelserve.store.attempts import AttemptRecord
from reelserve.store.handoffs import Handoff
from reelserve.store.keys import ApiKey
from reelserve.tasks.models import Task


def when(ts: float | None) -> str:
    """`2026-12-02 07:10:05Z`, or an empty string."""
    if ts is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(ts))


def parse_when(value: str | None) -> float | None:
    """A `datetime-local` form value (read as UTC) as a Unix time; '' or bad: None."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def row(task: Task, key_names: dict[str, str]) -> dict[str, Any]:
    return {
        "id": task.id,
        "seq": task.seq,
        "family": task.dialect.value,
        "model": str(task.params.get("model") or ""),
        "operation": task.operation,
        "status": task.status.value,
        "finished": task.status.finished,
        "progress": round(task.progress * 100),
        "engine": task.engine,
        "key": key_names.get(task.api_key_id, task.api_key_id),
        "created": when(task.created_at),
    }


def live(task: Task) -> dict[str, Any]:
    """What the page's script updates while a task runs."""
    return {
        "id": task.id,
        "status": task.status.value,
        "finished": task.status.finished,
        "progress": round(task.progress * 100),
    }


def artifacts(task: Task, links: MediaLinks) -> list[dict[str, Any]]:
    if task.result is None:
        return []
    out = []
    for artifact in task.result.artifacts:
        out.append(
            {
                "kind": artifact.kind,
                "role": artifact.role,
                "mime": artifact.mime,
                "url": links.url(task, artifact.key),
                "width": artifact.width,
                "height": artifact.height,
                "duration": round(artifact.duration, 2),
                "bytes": artifact.bytes,
                "data": pretty(artifact.data) if artifact.data is not None else "",
                "expired": task.media_expired,
            }
        )
    return out


def deliveries(history: list[tuple[Delivery, list[Attempt]]]) -> list[dict[str, Any]]:
    return [
        {
            "id": d.id,
            "url": d.url,
            "stage": d.stage or "final",
            "state": d.state.value,
            "created": when(d.created_at),
            "attempts": [
                {
                    "at": when(a.at),
                    "status": a.http_status,
                    "ms": a.duration_ms,
                    "error": a.error,
                    "response": a.response,
                }
                for a in attempts
            ],
        }
        for d, attempts in history
    ]


def detail(
    task: Task,
    key: ApiKey | None,
    links: MediaLinks,
    history: list[tuple[Delivery, list[Attempt]]],
    handoffs: list[Handoff],
    attempts: list[AttemptRecord],
) -> dict[str, Any]:
    ran = (task.finished_at or time.time()) - task.started_at if task.started_at else None
    return {
        **row(task, {key.id: key.name} if key else {}),
        "parent": task.parent_id or "",
        "callback_url": task.callback_url or "",
        "request": pretty(task.request),
        "created": when(task.created_at),
        "started": when(task.started_at),
        "finished_at": when(task.finished_at),
        "ran_s": round(ran, 2) if ran is not None else None,
        "attempts": task.attempts,
        "worker": task.worker_id or "",
        "fallbacks": list(task.params.get("fallbacks") or []),
        "tried": list(task.params.get("tried") or []),
        "fail_code": task.fail_code,
        "fail_msg": task.fail_msg,
        "cancel_requested": task.cancel_requested_at is not None,
        "cost": task.cost,
        "charged": task.credits_charged,
        "refunded": task.credits_refunded,
        "handoffs": [
            {
                "engine": h.engine,
                "upstream_id": h.upstream_id,
                "state": h.state,
                "submissions": h.submissions,
            }
            for h in handoffs
        ],
        "attempt_log": [
            {
                "attempt": a.attempt,
                "engine": a.engine,
                "worker": a.worker_id,
                "started": when(a.started_at),
                "seconds": round(a.ended_at - a.started_at, 2),
                "outcome": a.outcome,
                "error": a.error,
            }
            for a in attempts
        ],
        "artifacts": artifacts(task, links),
        "deliveries": deliveries(history),
    }
