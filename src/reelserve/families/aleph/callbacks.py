"""The Aleph family's callback body (kie-api.md §4: `taskId` beside `data`)."""

from __future__ import annotations

from typing import Any

from reelserve.blobs.links import MediaLinks
from reelserve.tasks.models import Status, Task
from reelserve.tasks.views import fail_msg


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
