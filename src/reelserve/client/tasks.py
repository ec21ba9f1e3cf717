"""What `Task` and `AsyncTask` share: the kinds of task and how each is polled."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Literal

from reelserve.client import endpoints
from reelserve.client.calls import Call
from reelserve.client.models import TaskRecord

TaskKind = Literal["runway", "aleph", "market", "veo", "gpt4o", "flux"]


def get_call(kind: TaskKind, task_id: str) -> Call[TaskRecord]:
    if kind == "runway":
        return endpoints.runway_get(task_id)  # type: ignore[return-value]
    if kind == "aleph":
        return endpoints.aleph_get(task_id)  # type: ignore[return-value]
    if kind == "veo":
        return endpoints.veo_get(task_id)  # type: ignore[return-value]
    if kind == "gpt4o":
        return endpoints.gpt4o_get(task_id)  # type: ignore[return-value]
    if kind == "flux":
        return endpoints.flux_get(task_id)  # type: ignore[return-value]
    return endpoints.jobs_get(task_id)  # type: ignore[return-value]


def temp_path_for(target: Path) -> Path:
    """A sibling file to stream into, renamed over `target` once complete."""
    target.parent.mkdir(parents=True, exist_ok=True)
    return target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
