"""Veo 3.1 (kie-families.md §3, notes §1): generate, extend and the renditions as tasks.

- generate: text-to-video, first-and-last frames (`image_to_video`, roles
  `first_frame`/`last_frame`) or reference images (`reference_to_video`);
  16:9 → 1280×720, 9:16 → 720×1280 at 720p (1080p, 4k larger); `Auto` picks
  16:9 or 9:16 from the first image (the worker snaps it, `extras.ratio_choices`).
  Videos have sound. Ids `veo_task_<32 hex>`.
- extend: the parent's whole video + 7 s (`extend`, the parent's video as
  source, the new part kept as a `segment` artifact). Ids `veo_extend_<32 hex>`.
- renditions (get-1080p-video, get-4k-video): a child task (`upscale_video`,
  the parent's video as source, a fixed size) whose id is derived from the
  parent, the rendition and the index, so it is made once and found again by id.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic import Field

from reelserve.api.body import LenientBody
from reelserve.engines.base import Capability
from reelserve.errors import NotFound, ReelserveError, ValidationFailed
from reelserve.families.common import (
    check_choice,
    image_sources,
    new_id,
    plan,
    stored_sources,
    string_list,
)
from reelserve.store.keys import ApiKey
from reelserve.tasks.models import Dialect, NewTask, Status, Task
from reelserve.tasks.rules import check_http_url, check_watermark
from reelserve.tasks.service import TaskService, without_inputs

MODELS = ("veo3", "veo3_fast", "veo3_lite")
EXTEND_MODELS = ("fast", "quality", "lite")
TYPES = ("TEXT_2_VIDEO", "FIRST_AND_LAST_FRAMES_2_VIDEO", "REFERENCE_2_VIDEO")
RATIOS = ("16:9", "9:16", "Auto")
RESOLUTIONS = ("720p", "1080p", "4k")
DURATIONS = (4, 6, 8)
SEED_MIN, SEED_MAX = 10000, 99999
EXTEND_SECONDS = 7

SIZES = {
    ("16:9", "720p"): (1280, 720),
    ("9:16", "720p"): (720, 1280),
    ("16:9", "1080p"): (1920, 1080),
    ("9:16", "1080p"): (1080, 1920),
    ("16:9", "4k"): (3840, 2160),
    ("9:16", "4k"): (2160, 3840),
}
RENDITIONS = {
    "1080p": {True: (1920, 1080), False: (1080, 1920)},
    "4k": {True: (3840, 2160), False: (2160, 3840)},
}
"""Rendition sizes by landscape (True) or portrait (a 9:16 video keeps its ratio)."""


class GenerateBody(LenientBody):
    prompt: str | None = None
    imageUrls: list[str] | str | None = None
    model: str | None = Field(None, description="veo3 | veo3_fast (default) | veo3_lite")
    generationType: str | None = None
    aspect_ratio: str | None = None
    aspectRatio: str | None = None
    seeds: int | None = None
    watermark: str | None = None
    enableTranslation: bool | None = None
    enableFallback: bool | None = None
    resolution: str | None = None
    duration: int | None = None
    callBackUrl: str | None = None


class ExtendBody(LenientBody):
    taskId: str | None = None
    prompt: str | None = None
    model: str | None = Field(None, description="fast (default) | quality | lite")
    seeds: int | None = None
    watermark: str | None = None
    callBackUrl: str | None = None


class FourKBody(LenientBody):
    taskId: str | None = None
    index: int | None = 0
    callBackUrl: str | None = None


def _seed(value: int | None) -> int | None:
    if value is not None and not SEED_MIN <= value <= SEED_MAX:
        raise ValidationFailed("seeds", f"must be an integer in {SEED_MIN}..{SEED_MAX}")
    return value


def _prompt(value: str | None) -> str:
    if value is None or not value.strip():
        raise ValidationFailed("prompt", "is required")
    return value


def check_callback(service: TaskService, value: str | None) -> str | None:
    if not value:
        return None
    url = check_http_url("callBackUrl", value)
    service.check_outbound("callBackUrl", url)
    return url


def _ratio(body: GenerateBody) -> str:
    snake, camel = body.aspect_ratio, body.aspectRatio
    if snake is not None and camel is not None and snake.strip() != camel.strip():
        raise ValidationFailed(
            "aspect_ratio", f'and aspectRatio differ ("{snake}" and "{camel}"): send one'
        )
    field = "aspect_ratio" if snake is not None else "aspectRatio"
    ratio = (snake if snake is not None else camel) or "16:9"
    ratio = ratio.strip()
    if ratio.lower() == "auto":
        ratio = "Auto"
    return str(check_choice(field, ratio, RATIOS))


def _submitted(body: LenientBody) -> dict[str, Any]:
    return body.model_dump(exclude_none=True)


async def generate(service: TaskService, key: ApiKey, body: GenerateBody) -> str:
    prompt = _prompt(body.prompt)
    model = str(check_choice("model", body.model or "veo3_fast", MODELS))
    ratio = _ratio(body)
    resolution = str(check_choice("resolution", (body.resolution or "720p").lower(), RESOLUTIONS))
    duration = int(check_choice("duration", body.duration or 8, DURATIONS))
    seed = _seed(body.seeds)
    if body.watermark:
        check_watermark("watermark", body.watermark)
    urls = string_list("imageUrls", body.imageUrls)
    kind = body.generationType or ("FIRST_AND_LAST_FRAMES_2_VIDEO" if urls else "TEXT_2_VIDEO")
    kind = str(check_choice("generationType", kind, TYPES))
    if kind == "TEXT_2_VIDEO":
        urls = []
        operation = Capability.TEXT_TO_VIDEO
    elif kind == "FIRST_AND_LAST_FRAMES_2_VIDEO":
        if not 1 <= len(urls) <= 2:
            raise ValidationFailed("imageUrls", f"must hold 1 or 2 images for {kind}")
        operation = Capability.IMAGE_TO_VIDEO
    else:
        if not 1 <= len(urls) <= 3:
            raise ValidationFailed("imageUrls", f"must hold 1 to 3 images for {kind}")
        operation = Capability.REFERENCE_TO_VIDEO
    images = image_sources("imageUrls", urls, service)
    callback = check_callback(service, body.callBackUrl)
    engine, *fallbacks = service.admit(operation, Dialect.VEO, model)
    task_id = new_id("veo_task_")
    roles: list[str]
    if operation is Capability.IMAGE_TO_VIDEO:
        roles = ["first_frame", "last_frame"]
    else:
        roles = ["reference"] * len(images)
    inputs: dict[str, str] = {}
    sources = await stored_sources(
        service,
        task_id,
        [(f, i, v, roles[n]) for n, (f, i, v) in enumerate(images)],
        inputs,
    )
    extras: dict[str, Any] = {}
    width = height = 0
    if ratio == "Auto" and images:
        extras["ratio_choices"] = ["16:9", "9:16"]
        spec_ratio = "auto"
    else:
        spec_ratio = "16:9" if ratio == "Auto" else ratio
        width, height = SIZES[(spec_ratio, resolution)]
    spec = plan(
        operation,
        prompt=prompt,
        ratio=spec_ratio,
        resolution=resolution,
        width=width,
        height=height,
        duration_s=float(duration),
        sound=True,
        seed=seed,
        extras=extras,
    )
    submitted = _submitted(body)
    params: dict[str, Any] = {
        "model": model,
        "model_id": model,
        "values": without_inputs(submitted, inputs),
        "spec": spec,
        "sources": sources,
        "inputs": inputs,
        "fallbacks": fallbacks,
        "resolution": resolution,
        "duration": duration,
        "count": 1,
        "veo": "generate",
    }
    return await service.submit(
        NewTask(
            id=task_id,
            api_key_id=key.id,
            dialect=Dialect.VEO,
            operation=operation.value,
            engine=engine,
            params=params,
            request=without_inputs(submitted, inputs),
            callback_url=callback,
        ),
        key,
    )


async def finished_parent(service: TaskService, key: ApiKey, task_id: str) -> Task:
    """A successful Veo generation (or extension) of this key, with its video still kept."""
    parent = await service.get(key, task_id, (Dialect.VEO,))
    if parent.params.get("veo") not in ("generate", "extend"):
        raise ValidationFailed("taskId", "must name a Veo generation or extension task")
    if parent.status is not Status.SUCCEEDED or parent.result is None:
        raise ValidationFailed("taskId", "record status is not success")
    if parent.media_expired or not parent.result.of_role("video"):
        raise ValidationFailed("taskId", "record result data is blank")
    return parent


def _video_source(parent: Task) -> dict[str, Any]:
    assert parent.result is not None
    video = parent.result.of_role("video")[0]
    return {
        "field": "taskId",
        "index": None,
        "kind": "video",
        "role": "video",
        "blob": video.key,
        "mime": video.mime,
        "accept": [],
        "max_bytes": 0,
    }


async def extend(service: TaskService, key: ApiKey, body: ExtendBody) -> str:
    if not body.taskId or not body.taskId.strip():
        raise ValidationFailed("taskId", "is required")
    prompt = _prompt(body.prompt)
    model = str(check_choice("model", body.model or "fast", EXTEND_MODELS))
    seed = _seed(body.seeds)
    if body.watermark:
        check_watermark("watermark", body.watermark)
    callback = check_callback(service, body.callBackUrl)
    parent = await finished_parent(service, key, body.taskId.strip())
    model_id = f"veo3_{model}" if model != "quality" else "veo3"
    engine, *fallbacks = service.admit(Capability.EXTEND, Dialect.VEO, model_id)
    assert parent.result is not None
    video = parent.result.of_role("video")[0]
    resolution = str(parent.params.get("resolution") or "720p")
    spec = plan(
        Capability.EXTEND,
        prompt=prompt,
        ratio="16:9" if video.width >= video.height else "9:16",
        resolution=resolution,
        width=video.width,
        height=video.height,
        duration_s=float(EXTEND_SECONDS),
        sound=True,
        seed=seed,
        extras={"segment": True},
    )
    submitted = _submitted(body)
    params: dict[str, Any] = {
        "model": model,
        "model_id": model_id,
        "values": submitted,
        "spec": spec,
        "sources": [_video_source(parent)],
        "inputs": {},
        "fallbacks": fallbacks,
        "resolution": resolution,
        "duration": EXTEND_SECONDS,
        "count": 1,
        "veo": "extend",
    }
    return await service.submit(
        NewTask(
            id=new_id("veo_extend_"),
            api_key_id=key.id,
            dialect=Dialect.VEO,
            operation=Capability.EXTEND.value,
            engine=engine,
            params=params,
            request=submitted,
            parent_id=parent.id,
            callback_url=callback,
        ),
        key,
    )


def rendition_id(parent_id: str, rendition: str, index: int) -> str:
    """The id of a task's rendition: the same for every call, so it is made once."""
    digest = hashlib.sha256(f"{parent_id}:{rendition}:{index}".encode()).hexdigest()[:32]
    return f"veo_{rendition}_{digest}"


async def rendition(
    service: TaskService,
    key: ApiKey,
    parent: Task,
    rendition_name: str,
    index: int,
    callback_url: str | None,
) -> tuple[Task | None, str]:
    """The rendition task of `parent` (None when this call created it) and its id."""
    task_id = rendition_id(parent.id, rendition_name, index)
    try:
        return await service.get(key, task_id, (Dialect.VEO,)), task_id
    except NotFound:
        pass
    assert parent.result is not None
    video = parent.result.of_role("video")[0]
    width, height = RENDITIONS[rendition_name][video.width >= video.height]
    model_id = f"veo3-{rendition_name}"
    engine, *fallbacks = service.admit(Capability.UPSCALE_VIDEO, Dialect.VEO, model_id)
    spec = plan(
        Capability.UPSCALE_VIDEO,
        prompt=str((parent.params.get("spec") or {}).get("prompt") or ""),
        resolution=rendition_name,
        width=width,
        height=height,
        sound=True,
    )
    request: dict[str, Any] = {"taskId": parent.id, "index": index}
    if callback_url:
        request["callBackUrl"] = callback_url
    params: dict[str, Any] = {
        "model": model_id,
        "model_id": model_id,
        "values": request,
        "spec": spec,
        "sources": [_video_source(parent)],
        "inputs": {},
        "fallbacks": fallbacks,
        "resolution": rendition_name,
        "duration": round(video.duration) or 8,
        "count": 1,
        "veo": rendition_name,
        "index": index,
    }
    try:
        await service.submit(
            NewTask(
                id=task_id,
                api_key_id=key.id,
                dialect=Dialect.VEO,
                operation=Capability.UPSCALE_VIDEO.value,
                engine=engine,
                params=params,
                request=request,
                parent_id=parent.id,
                callback_url=callback_url,
            ),
            key,
        )
    except ReelserveError:
        raise
    except Exception:
        # Two first calls at once: the other one inserted it (same id).
        return await service.get(key, task_id, (Dialect.VEO,)), task_id
    return None, task_id
