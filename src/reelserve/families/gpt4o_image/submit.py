"""4o Image (kie-families.md §4, notes §2): generate as a task.

Text-to-image, or an edit (`image_to_image`) when `filesUrl` (≤ 5 images, or
the deprecated `fileUrl`) is given, with an optional `maskUrl` (only with an
image; ignored by KIE when several are given). `size` 1:1 | 3:2 | 2:3 →
1024×1024, 1536×1024, 1024×1536; `nVariants` 1 | 2 | 4 images (PNG).
Ids `task_4o_<32 hex>`; the route's model name is `gpt4o-image`.
"""

from __future__ import annotations

from typing import Any

from reelserve.api.body import LenientBody
from reelserve.engines.base import Capability
from reelserve.errors import ValidationFailed
from reelserve.families.common import (
    check_choice,
    image_sources,
    new_id,
    plan,
    stored_sources,
    string_list,
)
from reelserve.store.keys import ApiKey
from reelserve.tasks.models import Dialect, NewTask
from reelserve.tasks.rules import check_http_url
from reelserve.tasks.service import TaskService, without_inputs

MODEL = "gpt4o-image"
SIZES = {"1:1": (1024, 1024), "3:2": (1536, 1024), "2:3": (1024, 1536)}
VARIANTS = (1, 2, 4)
FALLBACK_MODELS = ("GPT_IMAGE_1", "FLUX_MAX")
MAX_FILES = 5


class GenerateBody(LenientBody):
    prompt: str | None = None
    filesUrl: list[str] | str | None = None
    fileUrl: str | None = None
    size: str | None = None
    nVariants: int | None = None
    maskUrl: str | None = None
    callBackUrl: str | None = None
    isEnhance: bool | None = None
    uploadCn: bool | None = None
    enableFallback: bool | None = None
    fallbackModel: str | None = None


async def generate(service: TaskService, key: ApiKey, body: GenerateBody) -> str:
    if body.size is None:
        raise ValidationFailed("size", 'is required: one of "1:1", "3:2", "2:3"')
    size = str(check_choice("size", body.size.strip(), tuple(SIZES)))
    count = int(check_choice("nVariants", body.nVariants or 1, VARIANTS))
    if body.fallbackModel is not None:
        check_choice("fallbackModel", body.fallbackModel, FALLBACK_MODELS)
    files = string_list("filesUrl", body.filesUrl)
    field = "filesUrl"
    if not files and body.fileUrl:
        files, field = [body.fileUrl], "fileUrl"
    if len(files) > MAX_FILES:
        raise ValidationFailed(field, f"must hold at most {MAX_FILES} images")
    prompt = body.prompt or ""
    if not prompt.strip() and not files:
        raise ValidationFailed("prompt", "is required when filesUrl is not given")
    if body.maskUrl and not files:
        raise ValidationFailed("maskUrl", "needs an image in filesUrl to edit")
    images = [
        (f, i if field == "filesUrl" else None, v)
        for f, i, v in image_sources(field, files, service)
    ]
    mask = image_sources("maskUrl", [body.maskUrl], service) if body.maskUrl else []
    callback = check_http_url("callBackUrl", body.callBackUrl) if body.callBackUrl else None
    service.check_outbound("callBackUrl", callback)
    operation = Capability.IMAGE_TO_IMAGE if files else Capability.TEXT_TO_IMAGE
    engine, *fallbacks = service.admit(operation, Dialect.GPT4O_IMAGE, MODEL)
    task_id = new_id("task_4o_")
    inputs: dict[str, str] = {}
    wanted = [(f, i, v, "image") for f, i, v in images]
    if mask and len(files) == 1:
        wanted.append(("maskUrl", None, mask[0][2], "mask"))
    sources = await stored_sources(service, task_id, wanted, inputs)
    width, height = SIZES[size]
    spec = plan(
        operation,
        prompt=prompt,
        ratio=size,
        width=width,
        height=height,
        count=count,
        image_format="png",
    )
    submitted = body.model_dump(exclude_none=True)
    params: dict[str, Any] = {
        "model": MODEL,
        "model_id": MODEL,
        "values": without_inputs(submitted, inputs),
        "spec": spec,
        "sources": sources,
        "inputs": inputs,
        "fallbacks": fallbacks,
        "count": count,
    }
    return await service.submit(
        NewTask(
            id=task_id,
            api_key_id=key.id,
            dialect=Dialect.GPT4O_IMAGE,
            operation=operation.value,
            engine=engine,
            params=params,
            request=without_inputs(submitted, inputs),
            callback_url=callback,
        ),
        key,
    )
