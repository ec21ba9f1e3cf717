"""The task service: what every family shares to submit and read tasks.

A family (`families/<name>/submit.py`) turns its request into a `NewTask`
with these steps: `admit` (operator switches, the route's engine),
`check_outbound` / `check_source` (the URL guard at submit), `store_input`
(data: URIs become input blobs), then `submit` (priced, inserted within the
key's limits, the worker woken). Reads go through `get`, which hides other
keys' tasks and other families' tasks.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from reelserve.blobs.base import BlobStore
from reelserve.blobs.signing import is_own_file_url
from reelserve.engines.base import Capability
from reelserve.errors import FeatureDisabled, Maintenance, NotFound, ValidationFailed
from reelserve.observability import metrics
from reelserve.observability.logs import task_context
from reelserve.security.urlguard import BlockedUrl, check_url
from reelserve.settings import Settings
from reelserve.store.keys import ApiKey
from reelserve.store.store import Store
from reelserve.store.tasks import Admission, DeliveryFor, DuplicateCreate
from reelserve.tasks.models import Dialect, NewTask, Task
from reelserve.tasks.paths import set_path
from reelserve.tasks.pricing import price_of
from reelserve.tasks.rules import DataUri
from reelserve.upstream.capture import forwards, idempotency, wire_params

_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/webm": "webm",
    "audio/mpeg": "mp3",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/mp4": "m4a",
}


class TaskService:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        blobs: BlobStore,
        on_submit: Callable[[], None] = lambda: None,
        *,
        delivery_for: DeliveryFor = None,
        on_delivery: Callable[[], None] = lambda: None,
        on_cancel: Callable[[str], None] = lambda _task_id: None,
    ) -> None:
        self._settings = settings
        self._store = store
        self._blobs = blobs
        self._on_submit = on_submit
        self._delivery_for = delivery_for
        self._on_delivery = on_delivery
        self._on_cancel = on_cancel

    async def get(self, key: ApiKey, task_id: str, dialects: tuple[Dialect, ...]) -> Task:
        """The task if it exists, belongs to `key` and is of one of `dialects`; else NotFound."""
        task = await self._store.tasks.get(task_id)
        if (
            task is None
            or task.api_key_id != key.id
            or task.dialect not in dialects
            or task.deleted_at is not None
        ):
            raise NotFound("Task not found")
        return task

    async def cancel(self, key: ApiKey, task_id: str, dialects: tuple[Dialect, ...]) -> Task:
        """Cancel a task of `key`: a queued one at once (refunded, no engine run, its
        callback in the family's words); a running one is interrupted by its worker
        (this process's at once, another's at its next heartbeat) and ends canceled,
        its partial outputs discarded; a finished one is returned unchanged."""
        task = await self.get(key, task_id, dialects)
        if task.status.finished:
            return task
        with task_context(
            task.id, task.dialect.value, metrics.model_of(task.params), task.engine, key.id
        ):
            after = await self._store.tasks.cancel(task.id, self._delivery_for, metrics.finished)
        if after is None:
            raise NotFound("Task not found")
        if after.status.finished:
            self._on_delivery()
        else:
            self._on_cancel(task.id)
        return after

    async def delete(self, key: ApiKey, task_id: str, dialects: tuple[Dialect, ...]) -> None:
        """Cancel the task if it has not ended, then hide it: reads by id answer 404."""
        await self.cancel(key, task_id, dialects)
        await self._store.tasks.delete(task_id)

    async def queue_position(self, task: Task) -> int:
        return await self._store.tasks.queue_position(task)

    def check_source(self, field: str, source: str | DataUri | None) -> None:
        if isinstance(source, str):
            self.check_outbound(field, source)

    async def store_input(
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

    def check_outbound(self, field: str, url: str | None) -> None:
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

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def store(self) -> Store:
        return self._store

    def admit(
        self, operation: Capability, dialect: Dialect, model: str | None = None
    ) -> tuple[str, ...]:
        """Operator switches first: maintenance (455), disabled feature or no engine (505).

        The answer is the route's engines for the task: the first runs it, the
        rest are its fallbacks (`tasks/routes.py`).
        """
        if self._settings.maintenance:
            raise Maintenance()
        disabled = self._settings.disabled_features
        if operation.value in disabled or dialect.value in disabled:
            raise FeatureDisabled(f"{operation.value} is disabled on this server")
        if model and model in disabled:
            raise FeatureDisabled(f"{model} is disabled on this server")
        engines = self._settings.engines_for(operation, model)
        if not engines:
            what = f"{model} ({operation.value})" if model else operation.value
            raise FeatureDisabled(f"no engine serves {what} on this server")
        return engines

    async def submit(self, new: NewTask, key: ApiKey) -> str:
        """Insert the task as queued, within the key's limits, and wake the worker."""
        model = metrics.model_of(new.params)
        with task_context(new.id, new.dialect.value, model, new.engine, key.id):
            task_id = await self._submit(new, key)
        if task_id == new.id:
            metrics.submitted(new.dialect.value, model)
        return task_id

    async def _submit(self, new: NewTask, key: ApiKey) -> str:
        new = replace(new, cost=price_of(new, self._settings))
        if forwards([new.engine, *new.params.get("fallbacks", ())]):
            wire = await wire_params(new.id, self._blobs, self._settings.source_max_bytes)
            if wire is not None:
                new = replace(new, params={**new.params, "wire": wire})
        admission = (
            Admission(key.id, key.rate_limit, key.max_queued, new.cost) if key.limited else None
        )
        try:
            await self._store.tasks.insert(new, admission, idempotency())
        except DuplicateCreate as first:
            # A retried create (same Idempotency-Key, same request): the first task's answer.
            if not first.task_id:
                raise ValidationFailed(
                    "Idempotency-Key", "is in use by a request still being made; retry"
                ) from None
            return first.task_id
        self._on_submit()
        return new.id


def without_inputs(submitted: dict[str, Any], inputs: dict[str, str]) -> dict[str, Any]:
    """The submitted request with data: URIs (dotted paths in `inputs`) left out: "" instead.

    A path's parts are keys, or indexes into a list (`input.image_urls.0`).
    """
    out: dict[str, Any] = copy.deepcopy(submitted)
    for path in inputs:
        set_path(out, path, "")
    return out
