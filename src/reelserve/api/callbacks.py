"""reelserve's own callback endpoints (spec §6): history and redelivery."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from reelserve.api.body import LenientBody, openapi_body, parse_body
from reelserve.api.deps import current_key, task_service
from reelserve.api.envelope import ok
from reelserve.api.timefmt import iso_time
from reelserve.callbacks.service import CallbackService
from reelserve.errors import ValidationFailed
from reelserve.tasks.models import Dialect

router = APIRouter(prefix="/api/v1/callbacks", tags=["callbacks"])

ALL_DIALECTS = tuple(Dialect)
TASK_ID_QUERY = {
    "parameters": [
        {"name": "taskId", "in": "query", "required": True, "schema": {"type": "string"}}
    ]
}


class RedeliverBody(LenientBody):
    taskId: str
    deliveryId: str | None = None


def _service(request: Request) -> CallbackService:
    service: CallbackService = request.app.state.callbacks
    return service


@router.get("", openapi_extra=TASK_ID_QUERY)
async def list_callbacks(request: Request) -> JSONResponse:
    """Every callback delivery of a task, oldest first, with each attempt."""
    key = await current_key(request)
    task_id = (request.query_params.get("taskId") or "").strip()
    if not task_id:
        raise ValidationFailed("taskId", "is required")
    task = await task_service(request).get(key, task_id, ALL_DIALECTS)
    history = await _service(request).history(task)
    data: list[dict[str, Any]] = [
        {
            "deliveryId": d.id,
            "webhookId": d.webhook_id,
            "url": d.url,
            "stage": d.stage,
            "state": d.state.value,
            "payload": orjson.loads(d.body),
            "attempts": [
                {
                    "at": iso_time(a.at),
                    "httpStatus": a.http_status,
                    "error": a.error,
                    "durationMs": a.duration_ms,
                    "response": a.response,
                }
                for a in attempts
            ],
        }
        for d, attempts in history
    ]
    return ok(request, data)


@router.post("/redeliver", openapi_extra=openapi_body(RedeliverBody))
async def redeliver(request: Request) -> JSONResponse:
    """Send a task's callback again, as a new delivery with a new webhook id.

    `deliveryId` (from GET /api/v1/callbacks) picks which one: a Suno song has
    three (`text`, `first`, `complete`); without it, the final callback.
    """
    key = await current_key(request)
    body = await parse_body(request, RedeliverBody)
    if not body.taskId.strip():
        raise ValidationFailed("taskId", "is required")
    task = await task_service(request).get(key, body.taskId.strip(), ALL_DIALECTS)
    chosen = (body.deliveryId or "").strip() or None
    delivery_id = await _service(request).redeliver(task, chosen)
    return ok(request, {"deliveryId": delivery_id})
