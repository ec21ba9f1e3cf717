"""Aleph generate (spec §1.4) as a video_to_video task."""

from __future__ import annotations

import uuid

from reelserve.engines.base import Capability
from reelserve.families.aleph import requests as aleph
from reelserve.families.aleph.requests import AlephRequest
from reelserve.store.keys import ApiKey
from reelserve.tasks.models import Dialect, NewTask
from reelserve.tasks.service import TaskService, without_inputs


async def generate(service: TaskService, key: ApiKey, req: AlephRequest) -> str:
    """Restyle a video (spec §1.4): a video_to_video task in the Aleph dialect."""
    engine, *fallbacks = service.admit(Capability.VIDEO_TO_VIDEO, Dialect.ALEPH)
    service.check_source("videoUrl", req.video)
    service.check_source("referenceImage", req.reference_image)
    service.check_outbound("callBackUrl", req.callback_url)
    task_id = str(uuid.uuid4())
    inputs: dict[str, str] = {}
    params = {
        "fallbacks": fallbacks,
        "prompt": req.prompt,
        "video": await service.store_input(task_id, "videoUrl", "video", req.video, inputs),
        "reference_image": await service.store_input(
            task_id, "referenceImage", "reference", req.reference_image, inputs
        ),
        "max_seconds": aleph.MAX_SECONDS,
        "size": aleph.SIZES[req.aspect_ratio] if req.aspect_ratio else None,
        "seed": req.seed,
        "watermark": req.watermark,
        "inputs": inputs,
    }
    return await service.submit(
        NewTask(
            id=task_id,
            api_key_id=key.id,
            dialect=Dialect.ALEPH,
            operation=Capability.VIDEO_TO_VIDEO.value,
            engine=engine,
            params=params,
            request=without_inputs(req.submitted, inputs),
            callback_url=req.callback_url,
        ),
        key,
    )
