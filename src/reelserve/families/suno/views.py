"""What the Suno family shows of a song: record-info and the three staged callbacks
(kie-families.md §6, notes §4.3–§4.4, §4.14).

A song's stages are read from its (partial) result: the `sheet` artifact
(titles, lyrics, tags, track ids) is the `text` stage, the first `track`
artifact the `first` stage, success the `complete` one. So record-info's
`status` is PENDING → TEXT_SUCCESS → FIRST_SUCCESS → SUCCESS, or
CREATE_TASK_FAILED (the input was at fault: failCode 400) /
GENERATE_AUDIO_FAILED (errorCode 501).

- record-info: `taskId`, `parentMusicId` (extend), `param` (the request as a
  JSON **string**), `response.sunoData[]` with camelCase keys and, for the
  clients that read them, the snake_case URL keys too (notes §4.14),
  `status`, `type` (GENERATE, EXTEND, UPLOAD_COVER...), `operationType`,
  `errorCode`, `errorMessage`, `createTime`.
- callbacks: `{code, msg, data: {callbackType, task_id, data: [snake_case items]}}`;
  a failure is `callbackType` "error" with the failure's code and message.
- Before its track is stored an item has `audioUrl` "" and `duration` null;
  reelserve does not stream, so `streamAudioUrl` is the MP3's URL once it exists.
"""

from __future__ import annotations

from typing import Any

from reelserve.api.timefmt import runway_time
from reelserve.blobs.links import MediaLinks
from reelserve.families.common import failed
from reelserve.families.suno.rules import MODEL_NAMES
from reelserve.tasks.models import Artifact, Status, Task
from reelserve.tasks.views import fail_msg, json_text, submitted_request

TEXT, FIRST, COMPLETE = "text", "first", "complete"
STAGE_MSG = {
    TEXT: "Text generation completed successfully.",
    FIRST: "First audio generated successfully.",
    COMPLETE: "All generated successfully.",
}
INPUT_FAULT_CODE = 400
GENERATION_FAILED_CODE = 501


def stage_of(task: Task) -> str:
    """ "" (nothing yet), "text", "first" or "complete" (success)."""
    if task.status is Status.SUCCEEDED:
        return COMPLETE
    if task.result is None or task.status.finished:
        return ""
    if task.result.of_role("track"):
        return FIRST
    return TEXT if task.result.of_role("sheet") else ""


def status_word(task: Task) -> str:
    if failed(task):
        return "CREATE_TASK_FAILED" if task.fail_code == 400 else "GENERATE_AUDIO_FAILED"
    return {"": "PENDING", TEXT: "TEXT_SUCCESS", FIRST: "FIRST_SUCCESS", COMPLETE: "SUCCESS"}[
        stage_of(task)
    ]


def error_code(task: Task) -> int | None:
    if not failed(task):
        return None
    return INPUT_FAULT_CODE if task.fail_code == 400 else GENERATION_FAILED_CODE


def _by_index(artifacts: list[Artifact]) -> dict[int, Artifact]:
    return {int((a.data or {}).get("index") or 0): a for a in artifacts}


def items(task: Task, links: MediaLinks) -> list[dict[str, Any]]:
    """Each track as record-info spells it (camelCase), whatever the stage."""
    if task.result is None or failed(task):
        return []
    sheets = task.result.of_role("sheet")
    listed = list((sheets[0].data or {}).get("tracks") or []) if sheets else []
    tracks = _by_index(task.result.of_role("track"))
    covers = _by_index(task.result.of_role("track_cover"))
    model_name = MODEL_NAMES.get(str(task.params.get("version") or ""), "chirp-v4")
    created = runway_time(task.created_at)
    out: list[dict[str, Any]] = []
    for index, sheet in enumerate(listed):
        track, cover = tracks.get(index), covers.get(index)
        audio = links.url(task, track.key) if track is not None else ""
        image = links.url(task, cover.key) if cover is not None else ""
        out.append(
            {
                "id": str(sheet.get("id") or ""),
                "audioUrl": audio,
                "sourceAudioUrl": audio,
                "streamAudioUrl": audio,
                "sourceStreamAudioUrl": audio,
                "imageUrl": image,
                "sourceImageUrl": image,
                "prompt": str(sheet.get("lyrics") or ""),
                "modelName": model_name,
                "title": str(sheet.get("title") or ""),
                "tags": str(sheet.get("tags") or ""),
                "createTime": created,
                "duration": round(track.duration, 2) if track is not None else None,
            }
        )
    return out


_SNAKE = {
    "audioUrl": "audio_url",
    "sourceAudioUrl": "source_audio_url",
    "streamAudioUrl": "stream_audio_url",
    "sourceStreamAudioUrl": "source_stream_audio_url",
    "imageUrl": "image_url",
    "sourceImageUrl": "source_image_url",
    "modelName": "model_name",
}


def snake(item: dict[str, Any]) -> dict[str, Any]:
    """A callback item: the URL and model keys in snake_case (`createTime` stays)."""
    return {_SNAKE.get(k, k): v for k, v in item.items()}


def operation_type(task: Task) -> str:
    return str(task.params.get("suno") or "generate")


def music_record(task: Task, links: MediaLinks) -> dict[str, Any]:
    tracks = items(task, links)
    response: dict[str, Any] = {
        "taskId": task.id,
        "sunoData": [item | snake(item) for item in tracks],
    }
    if failed(task):
        response["errorMessage"] = fail_msg(task)
    return {
        "taskId": task.id,
        "parentMusicId": str(task.params.get("parent_music_id") or ""),
        "param": json_text(submitted_request(task, links)),
        "response": response,
        "status": status_word(task),
        "type": operation_type(task).upper(),
        "operationType": operation_type(task),
        "errorCode": error_code(task),
        "errorMessage": fail_msg(task) if failed(task) else None,
        "createTime": runway_time(task.created_at),
    }


def music_payload(task: Task, links: MediaLinks) -> dict[str, Any]:
    """The callback of the song's current stage, or of its failure."""
    if failed(task):
        return {
            "code": error_code(task),
            "msg": fail_msg(task),
            "data": {"callbackType": "error", "task_id": task.id, "data": []},
        }
    stage = stage_of(task) or TEXT
    return {
        "code": 200,
        "msg": STAGE_MSG[stage],
        "data": {
            "callbackType": stage,
            "task_id": task.id,
            "data": [snake(item) for item in items(task, links)],
        },
    }
