"""What the Aleph and Market dialects show of a task: shared by their polls and callbacks.

The poll (`record-info`, `recordInfo`) and the callback of a dialect carry the
same fields, so both are built here, once.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson

from reelserve.api.timefmt import iso_time
from reelserve.blobs.links import MediaLinks
from reelserve.tasks.models import Status, Task

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
        *parents, last = path.split(".")
        node = request
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = links.url(task, key)
    return request


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


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
        "paramJson": _json(submitted_request(task, links)),
        "response": response,
        "completeTime": iso_time(task.finished_at) if ended and task.finished_at else "",
        "createTime": iso_time(task.created_at),
        "successFlag": 1 if succeeded else 0,
        "errorCode": (task.fail_code or 500) if failed else 0,
        "errorMessage": fail_msg(task),
        "state": RUNWAY_STATES[task.status],
    }


def _ms(ts: float) -> int:
    return round(ts * 1000)


def market_record(task: Task, links: MediaLinks) -> dict[str, Any]:
    """`GET /api/v1/jobs/recordInfo` data (spec §2).

    Times are Unix milliseconds; `completeTime` is null until the task ends and
    `costTime` (start of generation to end) is 0 until then.
    """
    succeeded = task.status is Status.SUCCEEDED and task.result is not None
    failed = task.status in (Status.FAILED, Status.CANCELED)
    result_json = ""
    if succeeded:
        assert task.result is not None
        result_json = _json({"resultUrls": [links.url(task, task.result.video_key)]})
    finished = task.finished_at if task.status.finished else None
    cost = 0
    if finished is not None:
        cost = max(0, _ms(finished) - _ms(task.started_at or task.created_at))
    return {
        "taskId": task.id,
        "model": str(task.params.get("model") or task.request.get("model") or ""),
        "state": MARKET_STATES[task.status],
        "param": _json(submitted_request(task, links)),
        "resultJson": result_json,
        "failCode": str(task.fail_code or 500) if failed else "",
        "failMsg": fail_msg(task),
        "costTime": cost,
        "completeTime": _ms(finished) if finished is not None else None,
        "createTime": _ms(task.created_at),
        "updateTime": _ms(task.updated_at),
        "progress": 100 if succeeded else min(99, int(task.progress * 100)),
    }
