"""What the Veo family shows of a task: record-info (kie-families.md §3, notes §1.2) and callbacks.

- `successFlag` 0 generating, 1 success, 2 failed with the input at fault
  (failCode 400), 3 generation failed; `errorCode` / `errorMessage`.
- `response` (null until success): `resultUrls` (an extension: its new part),
  `fullResultUrls` (the whole video), `originUrls` (only when the video is not
  16:9, else null), `resolution`.
- Times `"YYYY-MM-DD HH:mm:ss"` UTC; `paramJson` the request as a JSON string.
- Additive (Decision): the market's `state` and `resultJson`.
"""

from __future__ import annotations

from typing import Any

from reelserve.api.timefmt import runway_time
from reelserve.blobs.links import MediaLinks
from reelserve.families.common import error_code, failed
from reelserve.tasks.models import Status, Task
from reelserve.tasks.views import MARKET_STATES, fail_msg, json_text, submitted_request

GENERATED_MSG = "Veo3.1 video generated successfully."
EXTENDED_MSG = "Veo3.1 video extension successful."
FOUR_K_MSG = "4K Video generated successfully."
FOUR_K_FAILED_MSG = "The 4K version of this video is unavailable. Please try a different video."


def success_flag(task: Task) -> int:
    if task.status is Status.SUCCEEDED:
        return 1
    if failed(task):
        return 2 if task.fail_code == 400 else 3
    return 0


def video_urls(task: Task, links: MediaLinks) -> dict[str, Any] | None:
    """resultUrls / fullResultUrls / originUrls / resolution of a successful task, else None."""
    if task.status is not Status.SUCCEEDED or task.result is None:
        return None
    videos = task.result.of_role("video")
    whole = [links.url(task, a.key) for a in videos]
    segments = [links.url(task, a.key) for a in task.result.of_role("segment")]
    portrait = bool(videos) and videos[0].height > videos[0].width
    return {
        "resultUrls": segments or whole,
        "fullResultUrls": whole,
        "originUrls": whole if portrait else None,
        "resolution": str(task.params.get("resolution") or "720p"),
    }


def veo_record(task: Task, links: MediaLinks) -> dict[str, Any]:
    urls = video_urls(task, links)
    response: dict[str, Any] | None = None
    if urls is not None:
        response = {"taskId": task.id, **urls}
    finished = task.finished_at if task.status.finished else None
    data: dict[str, Any] = {
        "taskId": task.id,
        "paramJson": json_text(submitted_request(task, links)),
        "completeTime": runway_time(finished) if finished is not None else None,
        "createTime": runway_time(task.created_at),
        "response": response,
        "successFlag": success_flag(task),
        "errorCode": error_code(task),
        "errorMessage": fail_msg(task) if failed(task) else "",
        "fallbackFlag": False,
        "state": MARKET_STATES[task.status],
        "resultJson": json_text({"resultUrls": urls["resultUrls"]}) if urls else "",
    }
    return data


def veo_payload(task: Task, links: MediaLinks) -> dict[str, Any]:
    """The callback of a finished Veo task: generate/extend (notes §1.6) or 4K (notes §1.4)."""
    kind = task.params.get("veo")
    urls = video_urls(task, links)
    if kind == "4k":
        if urls is None:
            return {"code": 500, "msg": FOUR_K_FAILED_MSG, "data": {"task_id": task.id}}
        assert task.result is not None
        covers = [links.url(task, a.key) for a in task.result.of_role("cover")]
        return {
            "code": 200,
            "msg": FOUR_K_MSG,
            "data": {
                "task_id": task.id,
                "result_urls": urls["fullResultUrls"],
                "media_ids": [task.id],
                "image_urls": covers,
            },
        }
    prompt_json = json_text(submitted_request(task, links))
    if urls is None:
        code = task.fail_code if task.fail_code in (400, 500, 501) else 501
        return {
            "code": code,
            "msg": fail_msg(task),
            "data": {"taskId": task.id, "fallbackFlag": False, "promptJson": prompt_json},
        }
    info: dict[str, Any] = {
        "resultUrls": urls["resultUrls"],
        "originUrls": urls["originUrls"],
        "resolution": urls["resolution"],
    }
    if kind == "extend":
        info["fullResultUrls"] = urls["fullResultUrls"]
    return {
        "code": 200,
        "msg": EXTENDED_MSG if kind == "extend" else GENERATED_MSG,
        "data": {
            "taskId": task.id,
            "info": info,
            "fallbackFlag": False,
            "promptJson": prompt_json,
        },
    }
