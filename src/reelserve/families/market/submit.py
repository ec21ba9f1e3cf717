"""Market createTask (kie-families.md §2) as a task: a catalogue model's input -> a NewTask.

Two kinds of model answer `createTask`: reelserve's own `synthetic/*` models
(kie-api.md §2, their params as the first version stored them) and KIE's
catalogue by its real names (`catalogue/`): validated against the model's
published schema, planned into a `TaskSpec` (operation, kind, size rule,
duration, count, sound, formats) that the task row keeps, so the worker and
every answer read the same decision. Sources are checked against the URL
guard now and stored as the worker reads them (data: URIs as input blobs).
A `task_id` input (Grok's extend, upscale and image-to-video by task) names
an earlier successful market task of the same key; its video or image
becomes the source.

Task ids: `task_<vendor>_<13-digit ms>_<8 hex>` (KIE's form, with a random
tail so ids made in the same millisecond differ); `synthetic/*` keeps UUIDs.
"""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

from reelserve import catalogue
from reelserve.engines.base import Capability, Kind
from reelserve.errors import ValidationFailed
from reelserve.store.keys import ApiKey
from reelserve.tasks.catalogue import MarketRequest
from reelserve.tasks.models import Dialect, NewTask, Status, Task
from reelserve.tasks.rules import DataUri
from reelserve.tasks.service import TaskService, without_inputs
from reelserve.tasks.specs import source_json, spec_json


def task_id_for(vendor: str) -> str:
    return f"task_{vendor}_{time.time_ns() // 1_000_000}_{secrets.token_hex(4)}"


def _plain(value: Any) -> Any:
    """`value` with decoded data: URIs left out ("" instead): what the row keeps of the input."""
    if isinstance(value, DataUri):
        return ""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


async def _parent_source(
    service: TaskService, key: ApiKey, spec: catalogue.TaskSpec
) -> dict[str, Any] | None:
    """The media of the task `input.task_id` names, as a source (video, or image `index`)."""
    if not spec.parent_task_id:
        return None
    try:
        parent: Task = await service.get(key, spec.parent_task_id, (Dialect.MARKET,))
    except Exception:
        raise ValidationFailed("input.task_id", "no such task of this key") from None
    if parent.status is not Status.SUCCEEDED or parent.result is None:
        raise ValidationFailed(
            "input.task_id", f"must name a successful task (this one is {parent.status.value})"
        )
    if parent.media_expired:
        raise ValidationFailed("input.task_id", "the task's media has expired")
    videos = parent.result.of_role("video")
    images = parent.result.of_role("image")
    if spec.kind is Kind.VIDEO and spec.operation is not Capability.IMAGE_TO_VIDEO and videos:
        return {
            "field": "task_id",
            "index": None,
            "kind": "video",
            "role": "video",
            "blob": videos[0].key,
            "mime": videos[0].mime,
        }
    index = spec.parent_index or 0
    pool = images or videos
    if not pool:
        raise ValidationFailed("input.task_id", "the task made no image or video")
    if index >= len(pool):
        raise ValidationFailed("input.index", f"must be 0..{len(pool) - 1} for that task")
    chosen = pool[index]
    kind = "image" if chosen.kind == "image" else "video"
    role = "image" if kind == "image" else "video"
    return {
        "field": "task_id",
        "index": index,
        "kind": kind,
        "role": role,
        "blob": chosen.key,
        "mime": chosen.mime,
    }


async def create(
    service: TaskService,
    key: ApiKey,
    name: str,
    data: dict[str, Any],
    callback_url: str | None,
    submitted: dict[str, Any],
) -> str:
    """A catalogue model's task; every problem with the input is a 422 naming `input.<field>`."""
    model = catalogue.resolve(name)
    values = catalogue.validate(model, data, source_max_bytes=service.settings.source_max_bytes)
    spec = catalogue.plan(model, values)
    sent = name.strip()
    engine, *fallbacks = service.admit(spec.operation, Dialect.MARKET, model.name)
    for source in spec.sources:
        field = f"input.{source.field}" + (f"[{source.index}]" if source.index is not None else "")
        service.check_source(field, source.value)
    service.check_outbound("callBackUrl", callback_url)
    task_id = task_id_for(model.vendor)
    inputs: dict[str, str] = {}
    sources: list[dict[str, Any]] = []
    for number, source in enumerate(spec.sources):
        path = f"input.{source.field}" + (f".{source.index}" if source.index is not None else "")
        stored = await service.store_input(
            task_id, path, f"{source.role}-{number}", source.value, inputs
        )
        assert stored is not None
        sources.append(source_json(source, stored, model.schema))
    parent = await _parent_source(service, key, spec)
    if parent is not None:
        sources.insert(0, parent)
    params: dict[str, Any] = {
        "model": sent,
        "model_id": model.name,
        "values": _plain(values),
        "spec": spec_json(spec),
        "sources": sources,
        "inputs": inputs,
        "fallbacks": fallbacks,
        "resolution": spec.resolution,
        "duration": spec.duration_s,
        "count": spec.count,
    }
    return await service.submit(
        NewTask(
            id=task_id,
            api_key_id=key.id,
            dialect=Dialect.MARKET,
            operation=spec.operation.value,
            engine=engine,
            params=params,
            request=without_inputs(submitted, inputs),
            parent_id=spec.parent_task_id,
            callback_url=callback_url,
        ),
        key,
    )


async def create_synthetic(service: TaskService, key: ApiKey, req: MarketRequest) -> str:
    """A market task (spec §2): the model's operation, run like any other task."""
    operation = req.model.operation
    engine = service.admit(operation, Dialect.MARKET)[0]
    service.check_source("input.image_url", req.image)
    service.check_source("input.video_url", req.video)
    service.check_outbound("callBackUrl", req.callback_url)
    task_id = str(uuid.uuid4())
    inputs: dict[str, str] = {}
    params: dict[str, Any] = {
        "model": req.model.name,
        "prompt": req.prompt,
        "duration": req.duration,
        "resolution": req.resolution,
        "size": [req.width, req.height],
        "seed": req.seed,
        "watermark": None,
        "inputs": inputs,
    }
    if operation is Capability.VIDEO_TO_VIDEO:
        params["video"] = await service.store_input(
            task_id, "input.video_url", "video", req.video, inputs
        )
        params["max_seconds"] = req.duration
    else:
        params["image"] = await service.store_input(
            task_id, "input.image_url", "image", req.image, inputs
        )
    return await service.submit(
        NewTask(
            id=task_id,
            api_key_id=key.id,
            dialect=Dialect.MARKET,
            operation=operation.value,
            engine=engine,
            params=params,
            request=without_inputs(req.submitted, inputs),
            callback_url=req.callback_url,
        ),
        key,
    )
