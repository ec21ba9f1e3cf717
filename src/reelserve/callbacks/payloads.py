"""Callback bodies per dialect (spec §4, exact shapes), built from a finished task."""

from __future__ import annotations

from typing import Any

import orjson

from reelserve.blobs.links import MediaLinks
from reelserve.tasks.models import Dialect, Status, Task
from reelserve.tasks.views import fail_msg, market_record

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


def aleph_payload(task: Task, links: MediaLinks) -> dict[str, Any]:
    """Spec §4 Aleph: `taskId` beside `data`, and `data` null on failure."""
    if task.status is Status.SUCCEEDED and task.result is not None:
        return {
            "code": 200,
            "msg": "success",
            "data": {
                "result_video_url": links.url(task, task.result.video_key),
                "result_image_url": links.url(task, task.result.cover_key),
            },
            "taskId": task.id,
        }
    return {"code": task.fail_code or 500, "msg": fail_msg(task), "data": None, "taskId": task.id}


def market_payload(task: Task, links: MediaLinks) -> dict[str, Any]:
    """Spec §4 Market: code 200 or 501, `data` = the recordInfo fields + `creditsConsumed`
    (the task's price when it succeeded; a failed task was refunded, so 0)."""
    succeeded = task.status is Status.SUCCEEDED and task.result is not None
    data = market_record(task, links)
    data.pop("progress")
    data["creditsConsumed"] = task.cost if succeeded else 0
    return {
        "code": 200 if succeeded else 501,
        "msg": "success" if succeeded else fail_msg(task),
        "data": data,
    }


def payload_for(task: Task, links: MediaLinks) -> dict[str, Any]:
    """The callback body of a finished task, in its dialect."""
    if task.dialect is Dialect.RUNWAY:
        return runway_payload(task, links)
    if task.dialect is Dialect.ALEPH:
        return aleph_payload(task, links)
    if task.dialect is Dialect.MARKET:
        return market_payload(task, links)
    raise ValueError(f"no callback payload for dialect {task.dialect}")


def encode(payload: dict[str, Any]) -> str:
    """The exact body text: stored once, so every retry sends (and signs) the same bytes."""
    return orjson.dumps(payload).decode()
