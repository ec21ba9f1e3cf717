"""KIE Aleph dialect (spec §1.4): generate and record-info, also under `/api/v1/runway/aleph`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from reelserve.api.body import openapi_body, parse_body
from reelserve.api.deps import current_key, task_service
from reelserve.api.envelope import ok
from reelserve.errors import ValidationFailed
from reelserve.families.aleph import submit
from reelserve.families.aleph.schemas import AlephBody
from reelserve.families.aleph.views import aleph_record
from reelserve.tasks.models import Dialect

router = APIRouter(tags=["aleph"])

PREFIXES = ("/api/v1/aleph", "/api/v1/runway/aleph")
"""Several clients use the `/runway/aleph` spelling; both answer identically."""

TASK_ID_QUERY = {
    "parameters": [
        {"name": "taskId", "in": "query", "required": True, "schema": {"type": "string"}}
    ]
}


async def generate(request: Request) -> JSONResponse:
    """Restyle the first 5 s of `videoUrl` as the prompt says."""
    key = await current_key(request)
    service = task_service(request)
    body = await parse_body(request, AlephBody)
    req = body.to_request(request.app.state.settings.source_max_bytes)
    task_id = await submit.generate(service, key, req)
    return ok(request, {"taskId": task_id})


async def record_info(request: Request) -> JSONResponse:
    """An Aleph task: `successFlag`, `errorCode`, the result URLs, and `state`."""
    key = await current_key(request)
    task_id = (request.query_params.get("taskId") or "").strip()
    if not task_id:
        raise ValidationFailed("taskId", "is required")
    task = await task_service(request).get(key, task_id, (Dialect.ALEPH,))
    return ok(request, aleph_record(task, request.app.state.links))


for _prefix in PREFIXES:
    router.add_api_route(
        f"{_prefix}/generate",
        generate,
        methods=["POST"],
        openapi_extra=openapi_body(AlephBody),
        operation_id=f"aleph_generate{_prefix.replace('/', '_')}",
    )
    router.add_api_route(
        f"{_prefix}/record-info",
        record_info,
        methods=["GET"],
        openapi_extra=TASK_ID_QUERY,
        operation_id=f"aleph_record_info{_prefix.replace('/', '_')}",
    )
