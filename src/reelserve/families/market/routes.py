"""The market family's routes: createTask, recordInfo and the model catalogue (`/jobs/models`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from reelserve import catalogue
from reelserve.api.body import LenientBody, openapi_body, parse_body
from reelserve.api.deps import current_key, task_service
from reelserve.api.envelope import ok
from reelserve.errors import ValidationFailed
from reelserve.families.market import submit
from reelserve.families.market.views import market_record
from reelserve.tasks.catalogue import MODELS, model_named, parse_market_input
from reelserve.tasks.models import Dialect
from reelserve.tasks.rules import check_http_url

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
    progressCallBackUrl: str | None = Field(
        None, description="Sora 2: accepted (progress callbacks are not sent yet)"
    )


def _create_task_openapi() -> dict[str, Any]:
    """The createTask body for /docs: one schema per model (`oneOf` on `model`), and examples."""
    extra = openapi_body(CreateTaskBody)
    variants: list[dict[str, Any]] = []
    examples: dict[str, Any] = {}
    for model in catalogue.models():
        variants.append(
            {
                "title": model.name,
                "type": "object",
                "properties": {
                    "model": {"type": "string", "const": model.name},
                    "input": model.schema,
                    "callBackUrl": {"type": "string", "format": "uri"},
                },
                "required": ["model", "input"],
                "description": model.description,
            }
        )
        examples[model.name] = {
            "summary": f"{model.name} ({model.operation.value})",
            "value": {"model": model.name, "input": model.example},
        }
    content = extra["requestBody"]["content"]["application/json"]
    content["schema"] = {"oneOf": variants}
    content["examples"] = examples
    return extra


@router.post("/createTask", openapi_extra=_create_task_openapi())
async def create_task(request: Request) -> JSONResponse:
    """Run `model` on `input` (every model of GET /api/v1/jobs/models, by KIE's names).

    Example body:
    `{"model": "nano-banana-pro", "input": {"prompt": "A fox", "aspect_ratio": "16:9"}}`.
    """
    key = await current_key(request)
    service = task_service(request)
    body = await parse_body(request, CreateTaskBody)
    name = body.model.strip()
    if not name:
        raise ValidationFailed("model", "is required (GET /api/v1/jobs/models lists the models)")
    callback = check_http_url("callBackUrl", body.callBackUrl) if body.callBackUrl else None
    if name in MODELS:
        model = model_named(name)
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
        task_id = await submit.create_synthetic(service, key, req)
    else:
        submitted = {"model": name, "input": body.input}
        if callback:
            submitted["callBackUrl"] = callback
        if body.progressCallBackUrl:
            submitted["progressCallBackUrl"] = body.progressCallBackUrl
        task_id = await submit.create(service, key, name, body.input, callback, submitted)
    return ok(request, {"taskId": task_id})


@router.get("/recordInfo", openapi_extra=TASK_ID_QUERY)
async def record_info(request: Request) -> JSONResponse:
    """A market task: its state and, on success, `resultJson` (a JSON string) with the URLs."""
    key = await current_key(request)
    task_id = (request.query_params.get("taskId") or "").strip()
    if not task_id:
        raise ValidationFailed("taskId", "is required")
    task = await task_service(request).get(key, task_id, (Dialect.MARKET,))
    return ok(request, market_record(task, request.app.state.links))


@router.get("/models")
async def models(request: Request) -> JSONResponse:
    """Every served model: operation, output kind, the engine its route picks (and its
    fallbacks: `engines`), input schema."""
    await current_key(request)
    settings = request.app.state.settings
    data: list[dict[str, Any]] = [
        {
            "model": m.name,
            "operation": m.operation.value,
            "kind": m.operation.kind.value,
            "engine": settings.engine_for(m.operation, m.name) or "",
            "engines": list(settings.engines_for(m.operation, m.name)),
            "description": m.description,
            "documented": False,
            "inputSchema": m.input_schema.model_json_schema(),
        }
        for m in MODELS.values()
    ]
    for model in catalogue.models():
        if model.name in MODELS:
            continue
        data.append(
            {
                "model": model.name,
                "operation": model.operation.value,
                "kind": model.kind.value,
                "engine": settings.engine_for(model.operation, model.name) or "",
                "engines": list(settings.engines_for(model.operation, model.name)),
                "description": model.description,
                "documented": model.documented,
                "inputSchema": model.schema,
            }
        )
    return ok(request, data)
