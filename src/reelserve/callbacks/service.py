"""Inspecting and re-sending a task's callbacks (spec §6)."""

from __future__ import annotations

from collections.abc import Callable

from reelserve.callbacks.models import Attempt, Delivery, NewDelivery
from reelserve.callbacks.outbox import Outbox
from reelserve.errors import ValidationFailed
from reelserve.store.store import Store
from reelserve.tasks.models import Task


class CallbackService:
    def __init__(self, store: Store, outbox: Outbox, wake: Callable[[], None]) -> None:
        self._store = store
        self._outbox = outbox
        self._wake = wake

    async def history(self, task: Task) -> list[tuple[Delivery, list[Attempt]]]:
        return await self._store.deliveries.for_task(task.id)

    async def redeliver(self, task: Task, delivery_id: str | None = None) -> str:
        """Queue one of the task's callbacks again as a new delivery (new webhook-id); its id.

        `delivery_id` picks the callback (a Suno song has three: `text`, `first`,
        `complete`); without it, the task's final callback is sent again.
        """
        if not task.callback_url:
            raise ValidationFailed("taskId", "the task has no callBackUrl to deliver to")
        past = await self._store.deliveries.for_task(task.id)
        if delivery_id:
            chosen = next((d for d, _ in past if d.id == delivery_id), None)
            if chosen is None:
                raise ValidationFailed("deliveryId", "is not a callback delivery of this task")
            new = NewDelivery.create(
                task.id, task.api_key_id, task.callback_url, chosen.body, chosen.stage
            )
        else:
            if not task.status.finished:
                raise ValidationFailed(
                    "taskId", "the task has not finished yet, so there is no callback"
                )
            finals = [d for d, _ in past if d.stage in _FINAL_STAGES]
            if finals:
                # The same payload as before, byte for byte.
                first = finals[0]
                new = NewDelivery.create(
                    task.id, task.api_key_id, task.callback_url, first.body, first.stage
                )
            else:
                built = self._outbox.delivery_for(task)
                assert built is not None
                new = built
        await self._store.deliveries.insert(new)
        self._wake()
        return new.id


_FINAL_STAGES = ("", "complete", "error")
"""A task's one callback (""), or the last of a Suno song's stages."""
