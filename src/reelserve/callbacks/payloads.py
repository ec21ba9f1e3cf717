"""Callback bodies per dialect (spec §4, exact shapes), built from a finished task."""

from __future__ import annotations

from typing import Any

import orjson

from reelserve.blobs.links import MediaLinks
from reelserve.tasks.models import Dialect, Status, Task

RUNWAY_SUCCESS_MSG = "All generated successfully."


def runway_payload(task: Task, links: MediaLinks) -> dict[str, Any]:
    if task.status is Status.SUCCEEDED and task.result is not None:
        return {
            "code": 200,
            "msg": RUNWAY_SUCCESS_MSG,
            "data": {
                "task_id": task.id,
                "video_id": task.result.video_id,
                "video_url": links.url(task, task.result.video_key),
                "image_url": links.url(task, task.result.cover_key),
            },
        }
    return {
        "code": task.fail_code or 500,
        "msg": "Task was canceled" if task.status is Status.CANCELED else task.fail_msg,
        "data": {"task_id": task.id, "video_id": "", "video_url": "", "image_url": ""},
    }


def payload_for(task: Task, links: MediaLinks) -> dict[str, Any]:
    """The callback body of a finished task, in its dialect."""
    if task.dialect is Dialect.RUNWAY:
        return runway_payload(task, links)
    raise ValueError(f"no callback payload for dialect {task.dialect}")


def encode(payload: dict[str, Any]) -> str:
    """The exact body text: stored once, so every retry sends (and signs) the same bytes."""
    return orjson.dumps(payload).decode()
