"""The `/v1` task object (`GET /v1/tasks/{id}`), one status each as the SDK's union reads it.

PENDING (queued), THROTTLED (queued while its key runs `max_concurrent`
tasks), RUNNING with `progress` 0..1, SUCCEEDED with `output` (signed media
URLs, no auth needed), FAILED with `failure` and a dotted `failureCode`,
CANCELLED. Unfinished tasks carry `estimatedCost`, finished ones `cost` (0 unless
it succeeded).
"""

from __future__ import annotations

import time
from typing import Any

from reelserve.blobs.links import MediaLinks
from reelserve.tasks.models import Status, Task

STATUSES = {
    Status.QUEUED: "PENDING",
    Status.RUNNING: "RUNNING",
    Status.SUCCEEDED: "SUCCEEDED",
    Status.FAILED: "FAILED",
    Status.CANCELED: "CANCELLED",
}
OUTPUT_ROLES = ("video", "image", "audio")
"""The artifacts listed in `output`, in their stored order (a video's cover is not)."""


def created_at(ts: float) -> str:
    """RFC 3339 with milliseconds and a Z: `2026-08-26T06:30:33.796Z`."""
    millis = int(ts * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{millis:03d}Z"


def failure_code(task: Task) -> str:
    """Runway's dotted code: the input's fault (failCode 4xx) or ours."""
    code = int(task.fail_code or 500)
    return "ASSET.INVALID" if 400 <= code < 500 else "INTERNAL"


def render_task(task: Task, links: MediaLinks, *, throttled: bool = False) -> dict[str, Any]:
    status = STATUSES[task.status]
    if task.status is Status.QUEUED and throttled:
        status = "THROTTLED"
    out: dict[str, Any] = {
        "id": task.id,
        "createdAt": created_at(task.created_at),
        "status": status,
    }
    if not task.status.finished:
        out["estimatedCost"] = {"credits": task.cost}
        if task.status is Status.RUNNING:
            out["progress"] = round(min(max(task.progress, 0.0), 1.0), 4)
        return out
    # What it cost: its price when it succeeded; failed and cancelled tasks are refunded.
    out["cost"] = {"credits": task.cost if task.status is Status.SUCCEEDED else 0}
    if task.status is Status.SUCCEEDED and task.result is not None:
        artifacts = task.result.of_role(*OUTPUT_ROLES)
        out["output"] = [links.url(task, a.key) for a in artifacts]
    elif task.status is Status.FAILED:
        out["failure"] = task.fail_msg or "Generation failed"
        out["failureCode"] = failure_code(task)
    return out
