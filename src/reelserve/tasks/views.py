"""What every family's answers share: state words, the failure text, the request as sent.

Each family builds its poll answer and its callback from the same finished task
(`families/<name>/views.py`, `callbacks.py`) with these helpers.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson

from reelserve.blobs.links import MediaLinks
from reelserve.tasks.models import Status, Task
from reelserve.tasks.paths import set_path

RUNWAY_STATES = {
    Status.QUEUED: "queueing",
    Status.RUNNING: "generating",
    Status.SUCCEEDED: "success",
    Status.FAILED: "fail",
    Status.CANCELED: "fail",
}
"""Spec §1.2 words; Aleph's additive `state` uses them too."""

MARKET_STATES = {
    Status.QUEUED: "queuing",
    Status.RUNNING: "generating",
    Status.SUCCEEDED: "success",
    Status.FAILED: "fail",
    Status.CANCELED: "fail",
}
"""Spec §2: KIE spells the market states `waiting`/`queuing` (a task is inserted queued)."""

CANCELED_MSG = "Task was canceled"


def fail_msg(task: Task) -> str:
    if task.status is Status.CANCELED:
        return CANCELED_MSG
    return task.fail_msg if task.status is Status.FAILED else ""


def submitted_request(task: Task, links: MediaLinks) -> dict[str, Any]:
    """The request as submitted; a data: URI shows as the signed URL of the stored input."""
    request = copy.deepcopy(task.request)
    for path, key in (task.params.get("inputs") or {}).items():
        set_path(request, path, links.url(task, key))
    return request


def json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def unix_ms(ts: float) -> int:
    return round(ts * 1000)
