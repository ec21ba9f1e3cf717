"""The Flux Kontext family's routes (`/api/v1/flux/kontext/*`, kie-families.md §5)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from reelserve.api.body import openapi_body, parse_body
from reelserve.api.deps import current_key, task_service
from reelserve.api.envelope import ok
from reelserve.families.common import record_task_id
from reelserve.families.flux_kontext import submit
from reelserve.families.flux_kontext.views import flux_record
from reelserve.tasks.models import Dialect

router = APIRouter(prefix="/api/v1/flux/kontext", tags=["flux-kontext"])

TASK_ID_QUERY = {
    "parameters": [
        {"name": "taskId", "in": "query", "required": True, "schema": {"type": "string"}}
    ]
}


@router.post("/generate", openapi_extra=openapi_body(submit.GenerateBody))
async def generate(request: Request) -> JSONResponse:
    """An image: `{"prompt": "A fox", "aspectRatio": "16:9"}`; an edit with `inputImage`."""
    key = await current_key(request)
    body = await parse_body(request, submit.GenerateBody)
    task_id = await submit.generate(task_service(request), key, body)
    return ok(request, {"taskId": task_id})


@router.get("/record-info", openapi_extra=TASK_ID_QUERY)
async def record_info(request: Request) -> JSONResponse:
    """A Flux Kontext task: `successFlag`, `response.resultImageUrl`, ISO times."""
    key = await current_key(request)
    task_id = record_task_id(request.query_params.get("taskId"))
    task = await task_service(request).get(key, task_id, (Dialect.FLUX_KONTEXT,))
    return ok(request, flux_record(task, request.app.state.links))
