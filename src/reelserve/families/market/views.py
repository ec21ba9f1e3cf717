"""What the market family shows of a task: `recordInfo` (kie-families.md §2), and its callback.

`resultJson` is a JSON **string** (clients `JSON.parse` it), present on success:
- media: `{"resultUrls": [...]}`, one URL per output in order (n images: n URLs);
- Seedance 2 with `return_last_frame`: also `firstFrameUrl` and `lastFrameUrl` (arrays);
- text (speech-to-text): `{"resultObject": {...}}`;
- Sora characters: `{"character_id": "..."}`.
`progress` (0..100) appears only for `sora-2*` models, as KIE does, and for
reelserve's own `synthetic/*` models, which always had it. `model` echoes the
name the client sent.
"""

from __future__ import annotations

from typing import Any

from reelserve.blobs.links import MediaLinks
from reelserve.tasks.models import Result, Status, Task
from reelserve.tasks.views import MARKET_STATES, fail_msg, json_text, submitted_request, unix_ms

MEDIA_ROLES = ("video", "image", "audio")


def shows_progress(model: str) -> bool:
    return model.startswith(("sora-2", "synthetic/"))


def result_json(task: Task, result: Result, links: MediaLinks) -> str:
    texts = result.of_role("text")
    if texts:
        data = texts[0].data or {}
        if "character_id" in data and len(data) == 1:
            return json_text({"character_id": data["character_id"]})
        return json_text({"resultObject": data})
    urls = [links.url(task, a.key) for a in result.of_role(*MEDIA_ROLES)]
    out: dict[str, Any] = {"resultUrls": urls}
    first, last = result.of_role("first_frame"), result.of_role("last_frame")
    if first or last:
        out["firstFrameUrl"] = [links.url(task, a.key) for a in first]
        out["lastFrameUrl"] = [links.url(task, a.key) for a in last]
    return json_text(out)


def market_model(task: Task) -> str:
    return str(task.params.get("model") or task.request.get("model") or "")


def market_record(task: Task, links: MediaLinks) -> dict[str, Any]:
    """`GET /api/v1/jobs/recordInfo` data.

    Times are Unix milliseconds; `completeTime` is null until the task ends and
    `costTime` (start of generation to end) is 0 until then.
    """
    succeeded = task.status is Status.SUCCEEDED and task.result is not None
    failed = task.status in (Status.FAILED, Status.CANCELED)
    model = market_model(task)
    text = ""
    if succeeded:
        assert task.result is not None
        text = result_json(task, task.result, links)
    finished = task.finished_at if task.status.finished else None
    cost = 0
    if finished is not None:
        cost = max(0, unix_ms(finished) - unix_ms(task.started_at or task.created_at))
    data: dict[str, Any] = {
        "taskId": task.id,
        "model": model,
        "state": MARKET_STATES[task.status],
        "param": json_text(submitted_request(task, links)),
        "resultJson": text,
        "failCode": str(task.fail_code or 500) if failed else "",
        "failMsg": fail_msg(task),
        "costTime": cost,
        "completeTime": unix_ms(finished) if finished is not None else None,
        "createTime": unix_ms(task.created_at),
        "updateTime": unix_ms(task.updated_at),
    }
    if shows_progress(model):
        data["progress"] = 100 if succeeded else min(99, int(task.progress * 100))
    return data
