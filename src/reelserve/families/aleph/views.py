"""What the Aleph family shows of a task: `record-info` (spec §1.4), shared with its callback."""

from __future__ import annotations

from typing import Any

from reelserve.api.timefmt import iso_time
from reelserve.blobs.links import MediaLinks
from reelserve.tasks.models import Status, Task
from reelserve.tasks.views import RUNWAY_STATES, fail_msg, json_text, submitted_request


def aleph_record(task: Task, links: MediaLinks) -> dict[str, Any]:
    """`GET /api/v1/aleph/record-info` data (spec §1.4), with the additive `state`."""
    succeeded = task.status is Status.SUCCEEDED and task.result is not None
    failed = task.status in (Status.FAILED, Status.CANCELED)
    response = {"taskId": "", "resultVideoUrl": "", "resultImageUrl": ""}
    if succeeded:
        assert task.result is not None
        response = {
            "taskId": task.id,
            "resultVideoUrl": links.url(task, task.result.video_key),
            "resultImageUrl": links.url(task, task.result.cover_key),
        }
    ended = task.status.finished and task.finished_at is not None
    return {
        "taskId": task.id,
        "paramJson": json_text(submitted_request(task, links)),
        "response": response,
        "completeTime": iso_time(task.finished_at) if ended and task.finished_at else "",
        "createTime": iso_time(task.created_at),
        "successFlag": 1 if succeeded else 0,
        "errorCode": (task.fail_code or 500) if failed else 0,
        "errorMessage": fail_msg(task),
        "state": RUNWAY_STATES[task.status],
    }
