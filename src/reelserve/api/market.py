"""KIE Market dialect (spec §2, §6): createTask, recordInfo and the model catalogue."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from reelserve.api.body import LenientBody, openapi_body, parse_body
from reelserve.api.deps import current_key, task_service
from reelserve.api.envelope import ok
from reelserve.errors import ValidationFailed
from reelserve.tasks.catalogue import MODELS, model_named, parse_market_input
from reelserve.tasks.models import Dialect
from reelserve.tasks.rules import check_http_url
from reelserve.tasks.views import market_record

router = APIRouter(prefix="/api/v1/jobs", tags=["market"])

TASK_ID_QUERY = {
    "parameters": [
        {"name": "taskId", "in": "query", "required": True, "schema": {"type": "string"}}
    ]
}


class CreateTaskBody(LenientBody):
    model: str = Field(
        description="a model of GET /api/v1/jobs/models", examples=[next(iter(MODELS))]
    )
    input: dict[str, Any] = Field(description="the model's inputs (its inputSchema)")
    callBackUrl: str | None = Field(None, description="http(s) URL called when the task ends")


@router.post("/createTask", openapi_extra=openapi_body(CreateTaskBody))
async def create_task(request: Request) -> JSONResponse:
    """Run `model` on `input`.

    Example body: `{"model": "synthetic/text-to-video", "input": {"prompt": "A fox"}}`.
    """
    key = await current_key(request)
    service = task_service(request)
    body = await parse_body(request, CreateTaskBody)
    if not body.model.strip():
        raise ValidationFailed("model", f"is required (one of {', '.join(MODELS)})")
    model = model_named(body.model)
    callback = check_http_url("callBackUrl", body.callBackUrl) if body.callBackUrl else None
    submitted: dict[str, Any] = {"model": model.name, "input": body.input}
    if callback:
        submitted["callBackUrl"] = callback
    req = parse_market_input(
        model,
        body.input,
        callback_url=callback,
        submitted=submitted,
        source_max_bytes=request.app.state.settings.source_max_bytes,
    )
    task_id = await service.market_create(key, req)
    return ok(request, {"taskId": task_id})


@router.get("/recordInfo", openapi_extra=TASK_ID_QUERY)
async def record_info(request: Request) -> JSONResponse:
    """A market task: state, progress (0..100) and, on success, `resultJson` with the URLs."""
    key = await current_key(request)
    task_id = (request.query_params.get("taskId") or "").strip()
    if not task_id:
        raise ValidationFailed("taskId", "is required")
    task = await task_service(request).get(key, task_id, (Dialect.MARKET,))
    return ok(request, market_record(task, request.app.state.links))


@router.get("/models")
async def models(request: Request) -> JSONResponse:
    """The model catalogue: each model's operation, the engine serving it and its input schema."""
    await current_key(request)
    settings = request.app.state.settings
    data = [
        {
            "model": m.name,
            "operation": m.operation.value,
            "engine": settings.engine_for(m.operation) or "",
            "description": m.description,
            "inputSchema": m.input_schema.model_json_schema(),
        }
        for m in MODELS.values()
    ]
    return ok(request, data)
