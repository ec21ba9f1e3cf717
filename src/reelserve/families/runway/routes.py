"""KIE Runway dialect: generate, record-detail, extend (spec §1.1-1.3)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from reelserve.api.body import openapi_body, parse_body
from reelserve.api.deps import current_key, task_service
from reelserve.api.envelope import ok
from reelserve.api.timefmt import runway_time
from reelserve.blobs.links import MediaLinks
from reelserve.errors import ValidationFailed
from reelserve.families.runway import submit
from reelserve.families.runway.schemas import ExtendBody, GenerateBody
from reelserve.tasks.models import Dialect, Status, Task

router = APIRouter(prefix="/api/v1/runway", tags=["runway"])

RUNWAY_STATES = {
    Status.QUEUED: "queueing",
    Status.RUNNING: "generating",
    Status.SUCCEEDED: "success",
    Status.FAILED: "fail",
    Status.CANCELED: "fail",
}


@router.post("/generate", openapi_extra=openapi_body(GenerateBody))
async def generate(request: Request) -> JSONResponse:
    """Text-to-video, or image-to-video when `imageUrl` is given."""
    key = await current_key(request)
    service = task_service(request)
    body = await parse_body(request, GenerateBody)
    req = body.to_request(request.app.state.settings.source_max_bytes)
    task_id = await submit.generate(service, key, req)
    return ok(request, {"taskId": task_id})


@router.post("/extend", openapi_extra=openapi_body(ExtendBody))
async def extend(request: Request) -> JSONResponse:
    """Add 5 seconds to a successful task's video."""
    key = await current_key(request)
    service = task_service(request)
    body = await parse_body(request, ExtendBody)
    task_id = await submit.extend(service, key, body.to_request())
    return ok(request, {"taskId": task_id})


TASK_ID_QUERY = {
    "parameters": [
        {"name": "taskId", "in": "query", "required": True, "schema": {"type": "string"}}
    ]
}


@router.get("/record-detail", openapi_extra=TASK_ID_QUERY)
async def record_detail(request: Request) -> JSONResponse:
    """A task's state and, on success, its video and cover URLs."""
    # The query is read by hand (documented through openapi_extra): FastAPI's
    # parameter solving is a sixth of a poll's cost.
    key = await current_key(request)
    service = task_service(request)
    taskId = request.query_params.get("taskId")
    if not taskId or not taskId.strip():
        raise ValidationFailed("taskId", "is required")
    task = await service.get(key, taskId.strip(), (Dialect.RUNWAY,))
    position = await service.queue_position(task) if task.status is Status.QUEUED else None
    return ok(request, render_record(task, request.app.state.links, position))


def render_record(task: Task, links: MediaLinks, queue_position: int | None) -> dict[str, Any]:
    failed = task.status in (Status.FAILED, Status.CANCELED)
    image = task.params.get("image") or {}
    image_url = task.request.get("imageUrl") or ""
    if not image_url and image.get("blob"):
        image_url = links.url(task, image["blob"])
    data: dict[str, Any] = {
        "taskId": task.id,
        "parentTaskId": task.parent_id or "",
        "generateParam": {
            "prompt": task.request.get("prompt", ""),
            "imageUrl": image_url,
            "expandPrompt": bool(task.request.get("expandPrompt", False)),
        },
        "state": RUNWAY_STATES[task.status],
        "generateTime": runway_time(task.created_at),
        "videoInfo": None,
        "failCode": (task.fail_code or 500) if failed else None,
        "failMsg": task.fail_msg if failed else "",
        "expireFlag": 1 if task.media_expired else 0,
        "progress": round(task.progress, 4),
    }
    if task.status is Status.CANCELED:
        data["failMsg"] = "Task was canceled"
    if task.status is Status.SUCCEEDED and task.result is not None:
        result = task.result
        data["videoInfo"] = {
            "videoId": result.video_id,
            "taskId": task.id,
            "videoUrl": links.url(task, result.video_key),
            "imageUrl": links.url(task, result.cover_key),
        }
    if queue_position is not None:
        data["queuePosition"] = queue_position
    return data
