"""The Runway family's callback body (kie-api.md §4, exact shape)."""

from __future__ import annotations

from typing import Any

from reelserve.blobs.links import MediaLinks
from reelserve.tasks.models import Status, Task

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
