"""Flux Kontext (kie-families.md §5, notes §3): generate as a task.

Text-to-image, or an edit (`image_to_image`) starting from `inputImage`.
`aspectRatio` from the docs' table (default 16:9; an edit without it keeps
the input's ratio), 1024 px on the long side; `outputFormat` jpeg (default)
| png; `safetyTolerance` 0–6, 0–2 when editing; `model` flux-kontext-pro
(default) | flux-kontext-max. Ids `fluxkontext_<32 hex>`.
"""

from __future__ import annotations

from typing import Any

from reelserve.api.body import LenientBody
from reelserve.catalogue import geometry as geo
from reelserve.engines.base import Capability
from reelserve.errors import ValidationFailed
from reelserve.families.common import check_choice, image_sources, new_id, plan, stored_sources
from reelserve.store.keys import ApiKey
from reelserve.tasks.models import Dialect, NewTask
from reelserve.tasks.rules import check_http_url, check_watermark
from reelserve.tasks.service import TaskService, without_inputs

MODELS = ("flux-kontext-pro", "flux-kontext-max")
RATIOS = ("21:9", "16:9", "4:3", "1:1", "3:4", "9:16")
FORMATS = ("jpeg", "png")
LONG_SIDE = "1K"


def size_of(ratio: str) -> tuple[int, int]:
    """The output size at a table ratio: 1024 px on the long side (16:9 → 1024×576)."""
    return geo.image_size(ratio, LONG_SIDE)


class GenerateBody(LenientBody):
    prompt: str | None = None
    inputImage: str | None = None
    model: str | None = None
    aspectRatio: str | None = None
    outputFormat: str | None = None
    promptUpsampling: bool | None = None
    safetyTolerance: int | None = None
    enableTranslation: bool | None = None
    watermark: str | None = None
    uploadCn: bool | None = None
    callBackUrl: str | None = None


async def generate(service: TaskService, key: ApiKey, body: GenerateBody) -> str:
    if body.prompt is None or not body.prompt.strip():
        raise ValidationFailed("prompt", "is required")
    model = str(check_choice("model", body.model or "flux-kontext-pro", MODELS))
    fmt = str(check_choice("outputFormat", (body.outputFormat or "jpeg").lower(), FORMATS))
    editing = bool(body.inputImage)
    ratio = body.aspectRatio.strip() if body.aspectRatio else ""
    if ratio:
        check_choice("aspectRatio", ratio, RATIOS)
    tolerance = 2 if body.safetyTolerance is None else body.safetyTolerance
    top = 2 if editing else 6
    if not 0 <= tolerance <= top:
        raise ValidationFailed(
            "safetyTolerance", f"must be 0..{top}" + (" when editing" if editing else "")
        )
    if body.watermark:
        check_watermark("watermark", body.watermark)
    images = image_sources("inputImage", [body.inputImage], service) if body.inputImage else []
    callback = check_http_url("callBackUrl", body.callBackUrl) if body.callBackUrl else None
    service.check_outbound("callBackUrl", callback)
    operation = Capability.IMAGE_TO_IMAGE if editing else Capability.TEXT_TO_IMAGE
    engine, *fallbacks = service.admit(operation, Dialect.FLUX_KONTEXT, model)
    task_id = new_id("fluxkontext_")
    inputs: dict[str, str] = {}
    sources = await stored_sources(
        service, task_id, [(f, None, v, "image") for f, _i, v in images], inputs
    )
    width = height = 0
    if ratio or not editing:
        ratio = ratio or "16:9"
        width, height = size_of(ratio)
    spec = plan(
        operation,
        prompt=body.prompt,
        ratio=ratio or "auto",
        resolution=LONG_SIDE,
        width=width,
        height=height,
        image_format=fmt,
    )
    submitted = body.model_dump(exclude_none=True)
    params: dict[str, Any] = {
        "model": model,
        "model_id": model,
        "values": without_inputs(submitted, inputs),
        "spec": spec,
        "sources": sources,
        "inputs": inputs,
        "fallbacks": fallbacks,
        "count": 1,
    }
    return await service.submit(
        NewTask(
            id=task_id,
            api_key_id=key.id,
            dialect=Dialect.FLUX_KONTEXT,
            operation=operation.value,
            engine=engine,
            params=params,
            request=without_inputs(submitted, inputs),
            callback_url=callback,
        ),
        key,
    )
