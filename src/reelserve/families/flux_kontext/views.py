"""What the Flux Kontext family shows of a task (kie-families.md §5, notes §3.2 and §3.3).

record-info: `successFlag` 0 generating, 1 success, 2 failed with the input
at fault (failCode 400), 3 generation failed; `response.resultImageUrl` and
`originImageUrl` (the same image: there is no upstream copy); ISO-8601 UTC
times. Callback: "BFL image generated successfully.", `info` with empty
strings on failure.
"""

from __future__ import annotations

from typing import Any

from reelserve.api.timefmt import iso_time
from reelserve.blobs.links import MediaLinks
from reelserve.families.common import error_code, failed
from reelserve.tasks.models import Status, Task
from reelserve.tasks.views import fail_msg, json_text, submitted_request

SUCCESS_MSG = "BFL image generated successfully."


def image_url(task: Task, links: MediaLinks) -> str | None:
    if task.status is not Status.SUCCEEDED or task.result is None:
        return None
    images = task.result.of_role("image")
    return links.url(task, images[0].key) if images else None


def flux_record(task: Task, links: MediaLinks) -> dict[str, Any]:
    url = image_url(task, links)
    finished = task.finished_at if task.status.finished else None
    if url is not None:
        flag = 1
    elif failed(task):
        flag = 2 if task.fail_code == 400 else 3
    else:
        flag = 0
    return {
        "taskId": task.id,
        "paramJson": json_text(submitted_request(task, links)),
        "completeTime": iso_time(finished) if finished is not None else None,
        "createTime": iso_time(task.created_at),
        "response": {"originImageUrl": url, "resultImageUrl": url} if url else None,
        "successFlag": flag,
        "errorCode": error_code(task),
        "errorMessage": fail_msg(task) if failed(task) else "",
    }


def flux_payload(task: Task, links: MediaLinks) -> dict[str, Any]:
    url = image_url(task, links)
    if url is None:
        code = task.fail_code if task.fail_code in (400, 500, 501) else 501
        info = {"originImageUrl": "", "resultImageUrl": ""}
        return {"code": code, "msg": fail_msg(task), "data": {"taskId": task.id, "info": info}}
    info = {"originImageUrl": url, "resultImageUrl": url}
    return {"code": 200, "msg": SUCCESS_MSG, "data": {"taskId": task.id, "info": info}}
