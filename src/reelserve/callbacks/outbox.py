"""The outbox: turns a task that just ended into the delivery its transaction inserts."""

from __future__ import annotations

from reelserve.blobs.links import MediaLinks
from reelserve.callbacks.models import NewDelivery
from reelserve.callbacks.payloads import encode, payload_for
from reelserve.families.suno.callbacks import suno_stage
from reelserve.tasks.models import Task


class Outbox:
    def __init__(self, links: MediaLinks) -> None:
        self._links = links

    def delivery_for(self, finished: Task) -> NewDelivery | None:
        """The callback of `finished` (a task in its final state, or a Suno song at a stage:
        `text`, `first`), or None without a callBackUrl."""
        if not finished.callback_url:
            return None
        body = encode(payload_for(finished, self._links))
        return NewDelivery.create(
            finished.id,
            finished.api_key_id,
            finished.callback_url,
            body,
            stage=suno_stage(finished),
        )
