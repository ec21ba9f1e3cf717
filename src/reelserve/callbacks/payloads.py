"""The callback body of a finished task, by its family (each family holds its own shapes)."""

from __future__ import annotations

from typing import Any

import orjson

from reelserve.blobs.links import MediaLinks
from reelserve.families.aleph.callbacks import aleph_payload
from reelserve.families.flux_kontext.callbacks import flux_payload
from reelserve.families.gpt4o_image.callbacks import gpt4o_payload
from reelserve.families.market.callbacks import market_payload
from reelserve.families.runway.callbacks import runway_payload
from reelserve.families.suno.callbacks import suno_payload
from reelserve.families.veo.callbacks import veo_payload
from reelserve.tasks.models import Dialect, Task


def payload_for(task: Task, links: MediaLinks) -> dict[str, Any]:
    """The callback body of a finished task, in its dialect."""
    if task.dialect is Dialect.RUNWAY:
        return runway_payload(task, links)
    if task.dialect is Dialect.ALEPH:
        return aleph_payload(task, links)
    if task.dialect is Dialect.MARKET:
        return market_payload(task, links)
    if task.dialect is Dialect.VEO:
        return veo_payload(task, links)
    if task.dialect is Dialect.GPT4O_IMAGE:
        return gpt4o_payload(task, links)
    if task.dialect is Dialect.FLUX_KONTEXT:
        return flux_payload(task, links)
    suno = suno_payload(task, links)
    if suno is not None:
        return suno
    raise ValueError(f"no callback payload for dialect {task.dialect}")


def encode(payload: dict[str, Any]) -> str:
    """The exact body text: stored once, so every retry sends (and signs) the same bytes."""
    return orjson.dumps(payload).decode()
