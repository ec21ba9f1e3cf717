"""Runway's developer API under `/v1` (Runway's paths, so `base_url` is the server root).

Every call but the upload's second step needs `Authorization: Bearer <key>`
and `X-Runway-Version`; errors are Runway's bodies (`errors.py`).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from reelserve.api.body import json_object
from reelserve.api.deps import current_key, task_service
from reelserve.api.envelope import FastJSONResponse
from reelserve.families.runway_official import models, submit, uploads
from reelserve.families.runway_official.errors import BadVersion
from reelserve.families.runway_official.views import render_task
from reelserve.store.keys import ApiKey
from reelserve.tasks.models import Dialect, Status, Task
from reelserve.tasks.service import TaskService
from reelserve.uploads.receive import receive_multipart

router = APIRouter(prefix="/v1", tags=["runway (official API)"])

UNLIMITED = 2_147_483_647
DIALECTS = (Dialect.RUNWAY_OFFICIAL,)
VERSION_HEADER = "x-runway-version"


def runway_version(request: Request) -> str:
    """The request's `X-Runway-Version`, one this server answers; else 400 naming it."""
    value = (request.headers.get(VERSION_HEADER) or "").strip()
    if value in models.VERSIONS:
        return value
    served = ", ".join(models.VERSIONS)
    if not value:
        raise BadVersion(f"The X-Runway-Version header is required (one of {served})")
    raise BadVersion(f'X-Runway-Version "{value}" is not a version this server answers ({served})')


async def _caller(request: Request) -> tuple[ApiKey, TaskService, str]:
    version = runway_version(request)
    return await current_key(request), task_service(request), version


Create = Callable[[TaskService, ApiKey, dict[str, Any], str], Awaitable[submit.Created]]


def _create_route(path: str, create: Create, summary: str) -> None:
    async def endpoint(request: Request) -> JSONResponse:
        key, service, version = await _caller(request)
        body = await json_object(request)
        created = await create(service, key, body, version)
        return FastJSONResponse({"id": created.id, "estimatedCost": {"credits": created.credits}})

    endpoint.__doc__ = summary
    router.add_api_route(path, endpoint, methods=["POST"], name=path.strip("/"))


_create_route(
    "/image_to_video",
    lambda s, k, b, v: submit.video(s, k, b, v, from_image=True),
    "A video from a first (and last) frame: gen4.5, gen4_turbo, veo3.1, veo3.1_fast, ...",
)
_create_route(
    "/text_to_video",
    lambda s, k, b, v: submit.video(s, k, b, v, from_image=False),
    "A video from a prompt: gen4.5, veo3.1, veo3.1_fast, veo3.",
)
_create_route(
    "/video_to_video",
    lambda s, k, b, _v: submit.video_to_video(s, k, b),
    "A video restyled by a prompt: gen4_aleph, aleph2.",
)
_create_route(
    "/text_to_image",
    lambda s, k, b, _v: submit.text_to_image(s, k, b),
    "An image from a prompt and optional reference images: gen4_image, gen4_image_turbo.",
)
_create_route(
    "/video_upscale",
    lambda s, k, b, _v: submit.video_upscale(s, k, b),
    "A video upscaled: upscale_v1, magnific_video_upscaler_creative.",
)
_create_route(
    "/sound_effect",
    lambda s, k, b, _v: submit.sound_effect(s, k, b),
    "A sound effect from a prompt: eleven_text_to_sound_v2.",
)
_create_route(
    "/text_to_speech",
    lambda s, k, b, _v: submit.text_to_speech(s, k, b),
    "Speech from text with a preset voice: eleven_multilingual_v2.",
)


async def _rendered(request: Request, key: ApiKey, task: Task) -> dict[str, Any]:
    throttled = False
    if task.status is Status.QUEUED and key.max_concurrent > 0:
        running = await request.app.state.store.tasks.running_of_key(key.id)
        throttled = running >= key.max_concurrent
    return render_task(task, request.app.state.links, throttled=throttled)


@router.get("/tasks/{task_id}")
async def retrieve_task(request: Request, task_id: str) -> JSONResponse:
    """The task: PENDING, THROTTLED, RUNNING (progress 0..1), SUCCEEDED (output), FAILED,
    CANCELLED."""
    key, service, _ = await _caller(request)
    task = await service.get(key, task_id, DIALECTS)
    return FastJSONResponse(await _rendered(request, key, task))


@router.delete("/tasks/{task_id}", status_code=204)
async def delete_task(request: Request, task_id: str) -> Response:
    """Cancel the task if it has not ended, then delete it: 204, and 404 from then on."""
    key, service, _ = await _caller(request)
    await service.delete(key, task_id, DIALECTS)
    return Response(status_code=204)


@router.delete("/tasks/{task_id}/cancel")
async def cancel_task(request: Request, task_id: str) -> JSONResponse:
    """Cancel without deleting, answering the task (LiteLLM's call)."""
    key, service, _ = await _caller(request)
    task = await service.cancel(key, task_id, DIALECTS)
    return FastJSONResponse(await _rendered(request, key, task))


@router.get("/organization")
async def organization(request: Request) -> JSONResponse:
    """Credit balance, the key's limits per model and today's generations per model."""
    key, _service, _ = await _caller(request)
    store = request.app.state.store
    balance = await store.keys.balance(key.id)
    now = time.time()
    midnight = now - now % 86_400
    today = await store.tasks.created_since(key.id, Dialect.RUNWAY_OFFICIAL.value, midnight)
    counts = Counter(str(t.params.get("model") or "") for t in today)
    names = models.all_models()
    limit = {
        "maxConcurrentGenerations": key.max_concurrent or UNLIMITED,
        "maxDailyGenerations": UNLIMITED,
    }
    return FastJSONResponse(
        {
            "creditBalance": UNLIMITED if balance is None else balance,
            "tier": {
                "maxMonthlyCreditSpend": UNLIMITED,
                "models": {name: dict(limit) for name in names},
            },
            "usage": {"models": {name: {"dailyGenerations": counts[name]} for name in names}},
        }
    )


@router.post("/uploads")
async def create_upload(request: Request) -> JSONResponse:
    """Step 1 of an ephemeral upload: `{uploadUrl, fields, runwayUri}`."""
    key, _service, _ = await _caller(request)
    request.app.state.uploads.admit()
    body = await json_object(request)
    answer = uploads.start(request.app.state.settings, request.app.state.signer, key, body)
    return FastJSONResponse(answer)


@router.post("/uploads/{upload_id}", status_code=204)
async def receive_upload(request: Request, upload_id: str) -> Response:
    """Step 2: the file as multipart, with step 1's fields (no key: the fields are signed)."""
    state = request.app.state
    state.uploads.admit()
    fields, received = await receive_multipart(
        request, state.uploads.tmp_dir, state.settings.upload_max_bytes
    )
    await uploads.receive(
        state.settings, state.store, state.blobs, state.signer, upload_id, fields, received
    )
    return Response(status_code=204)
