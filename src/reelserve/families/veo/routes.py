"""The Veo 3.1 family's routes (`/api/v1/veo/*`, kie-families.md §3)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from reelserve.api.body import openapi_body, parse_body
from reelserve.api.deps import current_key, task_service
from reelserve.api.envelope import answer, ok
from reelserve.errors import ValidationFailed
from reelserve.families.common import record_task_id
from reelserve.families.veo import submit
from reelserve.families.veo.views import veo_record
from reelserve.tasks.models import Dialect, Status, Task

router = APIRouter(prefix="/api/v1/veo", tags=["veo"])

TASK_ID_QUERY = {
    "parameters": [
        {"name": "taskId", "in": "query", "required": True, "schema": {"type": "string"}}
    ]
}
PROCESSING_1080P = (
    "1080P is processing. It should be ready in 1-2 minutes. Please check back shortly."
)
PROCESSING_4K = "4k is processing. It should be ready in 5-10 minutes. Please check back shortly."
DONE_4K = "The video has been generated successfully"
RENDITION_FAILED = "Internal Error, Please try again later."


@router.post("/generate", openapi_extra=openapi_body(submit.GenerateBody))
async def generate(request: Request) -> JSONResponse:
    """A Veo 3.1 video (text, first-and-last frames or reference images), with sound.

    Example body: `{"prompt": "A fox in the snow", "model": "veo3_fast", "aspect_ratio": "16:9"}`.
    """
    key = await current_key(request)
    body = await parse_body(request, submit.GenerateBody)
    task_id = await submit.generate(task_service(request), key, body)
    return ok(request, {"taskId": task_id})


@router.post("/extend", openapi_extra=openapi_body(submit.ExtendBody))
async def extend(request: Request) -> JSONResponse:
    """7 more seconds of a Veo video; `fullResultUrls` holds the whole video."""
    key = await current_key(request)
    body = await parse_body(request, submit.ExtendBody)
    task_id = await submit.extend(task_service(request), key, body)
    return ok(request, {"taskId": task_id})


@router.get("/record-info", openapi_extra=TASK_ID_QUERY)
async def record_info(request: Request) -> JSONResponse:
    """Any Veo task (generation, extension, 1080p or 4K rendition): `successFlag`, `response`."""
    key = await current_key(request)
    task_id = record_task_id(request.query_params.get("taskId"))
    task = await task_service(request).get(key, task_id, (Dialect.VEO,))
    return ok(request, veo_record(task, request.app.state.links))


def _index(value: object) -> int:
    if value is None or value == "":
        return 0
    try:
        index = int(str(value))
    except ValueError:
        raise ValidationFailed("index", "must be an integer") from None
    if index != 0:
        raise ValidationFailed("index", "must be 0 (the task made one video)")
    return index


def _video_url(request: Request, task: Task) -> str:
    assert task.result is not None
    video = task.result.of_role("video")[0]
    url: str = request.app.state.links.url(task, video.key)
    return url


@router.get(
    "/get-1080p-video",
    openapi_extra={
        "parameters": [
            *TASK_ID_QUERY["parameters"],
            {"name": "index", "in": "query", "required": False, "schema": {"type": "integer"}},
        ]
    },
)
async def get_1080p_video(request: Request) -> JSONResponse:
    """A 1920×1080 (9:16: 1080×1920) rendition, made once: code 400 "processing" until ready."""
    key = await current_key(request)
    service = task_service(request)
    task_id = record_task_id(request.query_params.get("taskId"))
    index = _index(request.query_params.get("index"))
    parent = await submit.finished_parent(service, key, task_id)
    task, _ = await submit.rendition(service, key, parent, "1080p", index, None)
    if task is None or not task.status.finished:
        return answer(request, 400, PROCESSING_1080P)
    if task.status is not Status.SUCCEEDED or task.result is None:
        return answer(request, 500, task.fail_msg or RENDITION_FAILED)
    return ok(request, {"resultUrl": _video_url(request, task)})


@router.post("/get-4k-video", openapi_extra=openapi_body(submit.FourKBody))
async def get_4k_video(request: Request) -> JSONResponse:
    """A 3840×2160 rendition as a task of its own: first call 200, later 422 with its state."""
    key = await current_key(request)
    service = task_service(request)
    body = await parse_body(request, submit.FourKBody)
    task_id = record_task_id(body.taskId)
    index = _index(body.index)
    callback = submit.check_callback(service, body.callBackUrl)
    parent = await submit.finished_parent(service, key, task_id)
    task, four_k_id = await submit.rendition(service, key, parent, "4k", index, callback)
    empty = {"taskId": four_k_id, "resultUrls": None, "imageUrls": None}
    if task is None:
        return ok(request, empty)
    if not task.status.finished:
        return answer(request, 422, PROCESSING_4K, empty)
    if task.status is not Status.SUCCEEDED or task.result is None:
        return answer(request, 500, task.fail_msg or RENDITION_FAILED, empty)
    links = request.app.state.links
    covers = [links.url(task, a.key) for a in task.result.of_role("cover")]
    data = {"taskId": four_k_id, "resultUrls": [_video_url(request, task)], "imageUrls": covers}
    return answer(request, 422, DONE_4K, data)
