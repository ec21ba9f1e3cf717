"""Runway generate and extend (spec §1.1, §1.3) as tasks: the family's request -> a NewTask."""

from __future__ import annotations

import uuid

from reelserve.engines.base import Capability
from reelserve.errors import ValidationFailed
from reelserve.families.runway.requests import ExtendRequest, GenerateRequest
from reelserve.store.keys import ApiKey
from reelserve.tasks import geometry
from reelserve.tasks.models import Dialect, NewTask, Status
from reelserve.tasks.service import TaskService


async def generate(service: TaskService, key: ApiKey, req: GenerateRequest) -> str:
    operation = Capability.IMAGE_TO_VIDEO if req.image is not None else Capability.TEXT_TO_VIDEO
    engine, *fallbacks = service.admit(operation, Dialect.RUNWAY)
    if isinstance(req.image, str):
        service.check_outbound("imageUrl", req.image)
    service.check_outbound("callBackUrl", req.callback_url)
    task_id = str(uuid.uuid4())
    image = await service.store_input(task_id, "imageUrl", "image", req.image, {})
    params = {
        "fallbacks": fallbacks,
        "prompt": req.prompt,
        "duration": req.duration,
        "quality": req.quality,
        "aspect_ratio": req.aspect_ratio,
        "image": image,
        "watermark": req.watermark,
    }
    request = {
        "prompt": req.prompt,
        "imageUrl": req.image if isinstance(req.image, str) else "",
        "expandPrompt": req.expand_prompt,
    }
    return await service.submit(
        NewTask(
            id=task_id,
            api_key_id=key.id,
            dialect=Dialect.RUNWAY,
            operation=operation.value,
            engine=engine,
            params=params,
            request=request,
            callback_url=req.callback_url,
        ),
        key,
    )


async def extend(service: TaskService, key: ApiKey, req: ExtendRequest) -> str:
    engine, *fallbacks = service.admit(Capability.EXTEND, Dialect.RUNWAY)
    service.check_outbound("callBackUrl", req.callback_url)
    parent = await service.get(key, req.task_id, (Dialect.RUNWAY,))
    if parent.status is not Status.SUCCEEDED or parent.result is None:
        raise ValidationFailed(
            "taskId",
            f"only a successful task can be extended (this one is {parent.status.value})",
        )
    if parent.media_expired:
        raise ValidationFailed(
            "taskId", "the task's media has expired and can no longer be extended"
        )
    result = parent.result
    ratio = geometry.nearest_ratio(result.width, result.height)
    params = {
        "fallbacks": fallbacks,
        "prompt": req.prompt,
        "quality": req.quality,
        "aspect_ratio": ratio,
        "duration": result.frames // geometry.FPS + geometry.EXTENSION_SECONDS,
        "parent_video_key": result.video_key,
        "parent_frames": result.frames,
        "watermark": req.watermark,
    }
    request = {"prompt": req.prompt, "imageUrl": "", "expandPrompt": False}
    return await service.submit(
        NewTask(
            id=str(uuid.uuid4()),
            api_key_id=key.id,
            dialect=Dialect.RUNWAY,
            operation=Capability.EXTEND.value,
            engine=engine,
            params=params,
            request=request,
            parent_id=parent.id,
            callback_url=req.callback_url,
        ),
        key,
    )
