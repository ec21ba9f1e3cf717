"""What the 4o Image family shows of a task (kie-families.md §4, notes §2.2 and §2.4).

record-info: `status` GENERATING | SUCCESS | GENERATE_FAILED and `successFlag`
0 | 1 | 2, `progress` a string "0.00".."1.00", `response` (null until success)
with the URLs under both `resultUrls` and `result_urls`, ms times. The
callback: `data.info.result_urls`, `info` null on failure.
"""

from __future__ import annotations

from typing import Any

from reelserve.blobs.links import MediaLinks
from reelserve.families.common import error_code, failed
from reelserve.tasks.models import Status, Task
from reelserve.tasks.views import fail_msg, json_text, submitted_request, unix_ms


def image_urls(task: Task, links: MediaLinks) -> list[str] | None:
    if task.status is not Status.SUCCEEDED or task.result is None:
        return None
    return [links.url(task, a.key) for a in task.result.of_role("image")]


def gpt4o_record(task: Task, links: MediaLinks) -> dict[str, Any]:
    urls = image_urls(task, links)
    finished = task.finished_at if task.status.finished else None
    if urls is not None:
        status, flag, progress = "SUCCESS", 1, 1.0
    elif failed(task):
        status, flag, progress = "GENERATE_FAILED", 2, 0.0
    else:
        status, flag, progress = "GENERATING", 0, min(0.99, task.progress)
    return {
        "taskId": task.id,
        "paramJson": json_text(submitted_request(task, links)),
        "completeTime": unix_ms(finished) if finished is not None else None,
        "createTime": unix_ms(task.created_at),
        "response": {"resultUrls": urls, "result_urls": urls} if urls is not None else None,
        "successFlag": flag,
        "status": status,
        "errorCode": error_code(task),
        "errorMessage": fail_msg(task) if failed(task) else "",
        "progress": f"{progress:.2f}",
    }


def gpt4o_payload(task: Task, links: MediaLinks) -> dict[str, Any]:
    urls = image_urls(task, links)
    if urls is None:
        code = task.fail_code if task.fail_code in (400, 451, 500) else 500
        return {"code": code, "msg": fail_msg(task), "data": {"taskId": task.id, "info": None}}
    return {
        "code": 200,
        "msg": "success",
        "data": {"taskId": task.id, "info": {"result_urls": urls}},
    }
