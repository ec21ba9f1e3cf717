"""Any task of the key, in reelserve's own words (additive to KIE's API):

- `GET /api/v1/tasks/detail?taskId=`: how it is served;
- `POST /api/v1/tasks/cancel {taskId}`: cancel it (every family).

The family's record endpoints answer in KIE's words and say nothing of how a
task was served; this one does: the engine that serves (or served) it, the
route's fallbacks left, the engines tried before with why they gave it up,
the upstream task it was handed to, its attempts and its artifacts. The
upstream's own task id is shown: it is the operator's key to the upstream's
logs and bills.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from reelserve.api.body import LenientBody, openapi_body, parse_body
from reelserve.api.callbacks import TASK_ID_QUERY
from reelserve.api.deps import current_key, task_service
from reelserve.api.envelope import ok
from reelserve.errors import ValidationFailed
from reelserve.tasks.models import Dialect, Status, Task
from reelserve.tasks.views import unix_ms

router = APIRouter(tags=["tasks"])


def _ms(value: float | None) -> int | None:
    return unix_ms(value) if value is not None else None


def task_detail(task: Task, handoffs: list[Any]) -> dict[str, Any]:
    handoff = next((h for h in reversed(handoffs) if h.engine == task.engine), None)
    artifacts = task.result.artifacts if task.result is not None else ()
    return {
        "taskId": task.id,
        "family": task.dialect.value,
        "operation": task.operation,
        "model": str(task.params.get("model") or ""),
        "status": task.status.value,
        "engine": task.engine,
        "fallbacks": list(task.params.get("fallbacks") or []),
        "tried": list(task.params.get("tried") or []),
        "attempts": task.attempts,
        "progress": round(task.progress, 4),
        "failCode": task.fail_code,
        "failMsg": task.fail_msg,
        "createTime": _ms(task.created_at),
        "startTime": _ms(task.started_at),
        "finishTime": _ms(task.finished_at),
        "credits": {"charged": task.credits_charged, "refunded": task.credits_refunded},
        "upstream": (
            {
                "engine": handoff.engine,
                "taskId": handoff.upstream_id,
                "state": handoff.state,
                "submissions": handoff.submissions,
            }
            if handoff is not None
            else None
        ),
        "artifacts": [
            {
                "kind": a.kind,
                "role": a.role,
                "mime": a.mime,
                "width": a.width,
                "height": a.height,
                "duration": a.duration,
                "bytes": a.bytes,
            }
            for a in artifacts
        ],
    }


@router.get("/api/v1/tasks/detail", openapi_extra=TASK_ID_QUERY)
async def detail(request: Request) -> JSONResponse:
    """A task of any family: its engine, route, attempts, upstream hand-off and artifacts."""
    key = await current_key(request)
    task_id = (request.query_params.get("taskId") or "").strip()
    if not task_id:
        raise ValidationFailed("taskId", "is required")
    task = await task_service(request).get(key, task_id, tuple(Dialect))
    handoffs = await request.app.state.store.handoffs.of_task(task.id)
    return ok(request, task_detail(task, handoffs))


class CancelBody(LenientBody):
    taskId: str


@router.post("/api/v1/tasks/cancel", openapi_extra=openapi_body(CancelBody))
async def cancel(request: Request) -> JSONResponse:
    """Cancel a task of any family: a queued one at once (refunded, its engine never runs),
    a running one at its engine's next step (refunded, its partial outputs discarded); the
    callback says so in the family's words. A finished task is left as it is."""
    key = await current_key(request)
    body = await parse_body(request, CancelBody)
    task_id = body.taskId.strip()
    if not task_id:
        raise ValidationFailed("taskId", "is required")
    after = await task_service(request).cancel(key, task_id, tuple(Dialect))
    if after.status is Status.CANCELED:
        msg = "Task canceled"
    elif after.status.finished:
        msg = f"The task had already finished ({after.status.value}); nothing was canceled"
    else:
        msg = "Cancel requested: the task stops at its engine's next step"
    data = {
        "taskId": after.id,
        "status": after.status.value,
        "canceled": after.status is Status.CANCELED,
        "cancelling": not after.status.finished,
    }
    return ok(request, data, msg)
