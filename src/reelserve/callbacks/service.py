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

    async def redeliver(self, task: Task) -> str:
        """Queue the task's callback again as a new delivery (new webhook-id); its id."""
        if not task.callback_url:
            raise ValidationFailed("taskId", "the task has no callBackUrl to deliver to")
        if not task.status.finished:
            raise ValidationFailed(
                "taskId", "the task has not finished yet, so there is no callback"
            )
        past = await self._store.deliveries.for_task(task.id)
        if past:
            # The same payload as before, byte for byte.
            first = past[0][0]
            new = NewDelivery.create(task.id, task.api_key_id, task.callback_url, first.body)
        else:
            built = self._outbox.delivery_for(task)
            assert built is not None
            new = built
        await self._store.deliveries.insert(new)
        self._wake()
        return new.id
