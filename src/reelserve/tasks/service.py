"""The task service: every dialect submits and reads tasks through here."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from reelserve.blobs.base import BlobStore
from reelserve.blobs.signing import is_own_file_url
from reelserve.engines.base import Capability
from reelserve.errors import FeatureDisabled, Maintenance, NotFound, ValidationFailed
from reelserve.security.urlguard import BlockedUrl, check_url
from reelserve.settings import Settings
from reelserve.store.keys import ApiKey
from reelserve.store.store import Store
from reelserve.store.tasks import Admission
from reelserve.tasks import aleph, geometry
from reelserve.tasks.aleph import AlephRequest
from reelserve.tasks.catalogue import MarketRequest
from reelserve.tasks.models import Dialect, NewTask, Status, Task
from reelserve.tasks.pricing import price_of
from reelserve.tasks.rules import DataUri
from reelserve.tasks.runway import ExtendRequest, GenerateRequest

_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


class TaskService:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        blobs: BlobStore,
        on_submit: Callable[[], None] = lambda: None,
    ) -> None:
        self._settings = settings
        self._store = store
        self._blobs = blobs
        self._on_submit = on_submit

    async def get(self, key: ApiKey, task_id: str, dialects: tuple[Dialect, ...]) -> Task:
        """The task if it exists, belongs to `key` and is of one of `dialects`; else NotFound."""
        task = await self._store.tasks.get(task_id)
        if task is None or task.api_key_id != key.id or task.dialect not in dialects:
            raise NotFound("Task not found")
        return task

    async def queue_position(self, task: Task) -> int:
        return await self._store.tasks.queue_position(task)

    async def runway_generate(self, key: ApiKey, req: GenerateRequest) -> str:
        operation = Capability.IMAGE_TO_VIDEO if req.image is not None else Capability.TEXT_TO_VIDEO
        engine = self._admit(operation, Dialect.RUNWAY)
        if isinstance(req.image, str):
            self._check_outbound("imageUrl", req.image)
        self._check_outbound("callBackUrl", req.callback_url)
        task_id = str(uuid.uuid4())
        image = await self._store_input(task_id, "imageUrl", "image", req.image, {})
        params = {
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
        return await self._submit(
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

    async def runway_extend(self, key: ApiKey, req: ExtendRequest) -> str:
        engine = self._admit(Capability.EXTEND, Dialect.RUNWAY)
        self._check_outbound("callBackUrl", req.callback_url)
        parent = await self.get(key, req.task_id, (Dialect.RUNWAY,))
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
            "prompt": req.prompt,
            "quality": req.quality,
            "aspect_ratio": ratio,
            "duration": result.frames // geometry.FPS + geometry.EXTENSION_SECONDS,
            "parent_video_key": result.video_key,
            "parent_frames": result.frames,
            "watermark": req.watermark,
        }
        request = {"prompt": req.prompt, "imageUrl": "", "expandPrompt": False}
        return await self._submit(
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

    async def aleph_generate(self, key: ApiKey, req: AlephRequest) -> str:
        """Restyle a video (spec §1.4): a video_to_video task in the Aleph dialect."""
        engine = self._admit(Capability.VIDEO_TO_VIDEO, Dialect.ALEPH)
        self._check_source("videoUrl", req.video)
        self._check_source("referenceImage", req.reference_image)
        self._check_outbound("callBackUrl", req.callback_url)
        task_id = str(uuid.uuid4())
        inputs: dict[str, str] = {}
        params = {
            "prompt": req.prompt,
            "video": await self._store_input(task_id, "videoUrl", "video", req.video, inputs),
            "reference_image": await self._store_input(
                task_id, "referenceImage", "reference", req.reference_image, inputs
            ),
            "max_seconds": aleph.MAX_SECONDS,
            "size": aleph.SIZES[req.aspect_ratio] if req.aspect_ratio else None,
            "seed": req.seed,
            "watermark": req.watermark,
            "inputs": inputs,
        }
        return await self._submit(
            NewTask(
                id=task_id,
                api_key_id=key.id,
                dialect=Dialect.ALEPH,
                operation=Capability.VIDEO_TO_VIDEO.value,
                engine=engine,
                params=params,
                request=_without(req.submitted, inputs),
                callback_url=req.callback_url,
            ),
            key,
        )

    async def market_create(self, key: ApiKey, req: MarketRequest) -> str:
        """A market task (spec §2): the model's operation, run like any other task."""
        operation = req.model.operation
        engine = self._admit(operation, Dialect.MARKET)
        self._check_source("input.image_url", req.image)
        self._check_source("input.video_url", req.video)
        self._check_outbound("callBackUrl", req.callback_url)
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
            params["video"] = await self._store_input(
                task_id, "input.video_url", "video", req.video, inputs
            )
            params["max_seconds"] = req.duration
        else:
            params["image"] = await self._store_input(
                task_id, "input.image_url", "image", req.image, inputs
            )
        return await self._submit(
            NewTask(
                id=task_id,
                api_key_id=key.id,
                dialect=Dialect.MARKET,
                operation=operation.value,
                engine=engine,
                params=params,
                request=_without(req.submitted, inputs),
                callback_url=req.callback_url,
            ),
            key,
        )

    def _check_source(self, field: str, source: str | DataUri | None) -> None:
        if isinstance(source, str):
            self._check_outbound(field, source)

    async def _store_input(
        self,
        task_id: str,
        field: str,
        name: str,
        source: str | DataUri | None,
        inputs: dict[str, str],
    ) -> dict[str, Any] | None:
        """A source as the worker reads it: `{"url"}`, or `{"blob"}` for a data: URI (stored now).

        Stored blobs are noted in `inputs` (request field -> blob key), so answers
        can show a signed URL where the client sent a data: URI.
        """
        if source is None:
            return None
        if isinstance(source, str):
            return {"url": source}
        blob_key = f"inputs/{task_id}/{name}.{_EXTENSIONS.get(source.mime, 'bin')}"
        await self._blobs.put_bytes(
            blob_key, source.data, source.mime or "application/octet-stream"
        )
        inputs[field] = blob_key
        return {"blob": blob_key, "mime": source.mime}

    def _check_outbound(self, field: str, url: str | None) -> None:
        """A URL written as a private or local address is refused at once (422)."""
        if url is None or self._settings.allow_private_urls:
            return
        if is_own_file_url(url, self._settings.public_url):
            return  # this server's own media: read from the blob store, never fetched
        try:
            check_url(url)
        except BlockedUrl as exc:
            raise ValidationFailed(
                field, f"must not point at a private, loopback or link-local address ({exc})"
            ) from None

    def _admit(self, operation: Capability, dialect: Dialect) -> str:
        """Operator switches first: maintenance (455), disabled feature or no engine (505)."""
        if self._settings.maintenance:
            raise Maintenance()
        disabled = self._settings.disabled_features
        if operation.value in disabled or dialect.value in disabled:
            raise FeatureDisabled(f"{operation.value} is disabled on this server")
        engine = self._settings.engine_for(operation)
        if not engine:
            raise FeatureDisabled(f"no engine serves {operation.value} on this server")
        return engine

    async def _submit(self, new: NewTask, key: ApiKey) -> str:
        """Insert the task as queued, within the key's limits, and wake the worker."""
        new = replace(new, cost=price_of(new, self._settings.credits_per_5s))
        admission = (
            Admission(key.id, key.rate_limit, key.max_queued, new.cost) if key.limited else None
        )
        await self._store.tasks.insert(new, admission)
        self._on_submit()
        return new.id


def _without(submitted: dict[str, Any], inputs: dict[str, str]) -> dict[str, Any]:
    """The submitted request with data: URIs (dotted paths in `inputs`) left out: "" instead."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in submitted.items()}
    for path in inputs:
        *parents, last = path.split(".")
        node = out
        for part in parents:
            node = node[part]
        node[last] = ""
    return out
