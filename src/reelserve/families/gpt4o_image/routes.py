"""The 4o Image family's routes (`/api/v1/gpt4o-image/*`, kie-families.md §4)."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from reelserve.api.body import LenientBody, openapi_body, parse_body
from reelserve.api.deps import current_key, task_service
from reelserve.api.envelope import ok
from reelserve.blobs.signing import UrlSigner
from reelserve.errors import NotFound, ValidationFailed
from reelserve.families.common import record_task_id
from reelserve.families.gpt4o_image import submit
from reelserve.families.gpt4o_image.views import gpt4o_record
from reelserve.tasks.models import Dialect, Status

router = APIRouter(prefix="/api/v1/gpt4o-image", tags=["4o-image"])

DOWNLOAD_URL_S = 20 * 60
TASK_ID_QUERY = {
    "parameters": [
        {"name": "taskId", "in": "query", "required": True, "schema": {"type": "string"}}
    ]
}


class DownloadBody(LenientBody):
    taskId: str | None = None
    url: str | None = None
    imageUrl: str | None = None


@router.post("/generate", openapi_extra=openapi_body(submit.GenerateBody))
async def generate(request: Request) -> JSONResponse:
    """4o images: `{"prompt": "A fox", "size": "1:1", "nVariants": 1}`; an edit with `filesUrl`."""
    key = await current_key(request)
    body = await parse_body(request, submit.GenerateBody)
    task_id = await submit.generate(task_service(request), key, body)
    return ok(request, {"taskId": task_id})


@router.get("/record-info", openapi_extra=TASK_ID_QUERY)
async def record_info(request: Request) -> JSONResponse:
    """A 4o Image task: `status`, `successFlag`, `progress` (a string), `response`."""
    key = await current_key(request)
    task_id = record_task_id(request.query_params.get("taskId"))
    task = await task_service(request).get(key, task_id, (Dialect.GPT4O_IMAGE,))
    return ok(request, gpt4o_record(task, request.app.state.links))


@router.post("/download-url", openapi_extra=openapi_body(DownloadBody))
async def download_url(request: Request) -> JSONResponse:
    """A direct URL, valid 20 minutes, for one of the task's images: `data` is the URL string."""
    key = await current_key(request)
    body = await parse_body(request, DownloadBody)
    task_id = record_task_id(body.taskId)
    url = (body.url or body.imageUrl or "").strip()
    if not url:
        raise ValidationFailed("url", "is required")
    task = await task_service(request).get(key, task_id, (Dialect.GPT4O_IMAGE,))
    if task.status is not Status.SUCCEEDED or task.result is None:
        raise ValidationFailed("taskId", "record status is not success")
    signer: UrlSigner = request.app.state.signer
    blob_key = signer.verified_key(url, allow_lapsed=True)
    if blob_key is None or blob_key not in {a.key for a in task.result.of_role("image")}:
        raise ValidationFailed("url", "must be an image URL of this task")
    if task.media_expired or not await request.app.state.blobs.exists(blob_key):
        raise NotFound("The media behind this URL has expired and was deleted")
    return ok(request, signer.url(blob_key, int(time.time()) + DOWNLOAD_URL_S))
