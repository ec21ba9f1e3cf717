"""What the Suno family shows of its other tasks (notes §4.9–§4.13, §6, §7's cheat sheet).

Each family keeps KIE's own status field, spelling and type:
- lyrics: `status` PENDING | SUCCESS | CREATE_TASK_FAILED | GENERATE_LYRICS_FAILED,
  `response.data[] {text, title, status, errorMessage}`, `type` "LYRICS";
  callback `data.taskId` (camel) + `callbackType` "complete".
- WAV: `successFlag` **string** PENDING | SUCCESS | CREATE_TASK_FAILED |
  GENERATE_WAV_FAILED, `response.audioWavUrl`; callback `data.task_id`, `data.audioWavUrl`.
- stems: `successFlag` string (… GENERATE_AUDIO_FAILED), `response` with every
  stem's `…Url` (absent stems null) and `originData[]` (`id` feeds MIDI's
  `audioId`); callback `data.vocal_removal_info.{…_url}`.
- MIDI: `successFlag` int 0 pending / 1 success / 2 failed, `midiData
  {state, instruments[]}`; callback `data.taskId`, `data.state`, `data.instruments`.
- music video: `successFlag` string PENDING | SUCCESS | CREATE_TASK_FAILED |
  GENERATE_MP4_FAILED, `response.videoUrl` (the docs do not show this record:
  by analogy with WAV); callback `data.task_id`, `data.video_url`.
- cover art: `successFlag` int 0 pending, 1 success, **2 generating**, 3
  failed; `response.images[]`; ISO times; callback `data.taskId`, `data.images`.
Times are ms integers except the cover's ISO strings.
"""

from __future__ import annotations

from typing import Any

from reelserve.api.timefmt import iso_time
from reelserve.blobs.links import MediaLinks
from reelserve.families.common import failed
from reelserve.tasks.models import Status, Task
from reelserve.tasks.views import fail_msg, json_text, submitted_request, unix_ms

STEM_KEYS = (
    "vocals", "backing_vocals", "drums", "bass", "guitar", "piano", "keyboard",
    "percussion", "strings", "synth", "fx", "brass", "woodwinds", "instrumental",
)  # fmt: skip
STEM_GROUP = {
    "vocals": "Vocals", "backing_vocals": "Backing Vocals", "drums": "Drums", "bass": "Bass",
    "guitar": "Guitar", "piano": "Piano", "keyboard": "Keyboard", "percussion": "Percussion",
    "strings": "Strings", "synth": "Synth", "fx": "FX", "brass": "Brass",
    "woodwinds": "Woodwinds", "instrumental": "Instrumental",
}  # fmt: skip
INTERNAL_ERROR = "Internal Error - Please try again later"


def _kie(name: str) -> str:
    """KIE's word for a stem in its URL keys: `vocal_url`, `drums_url`, `backing_vocals_url`."""
    return "vocal" if name == "vocals" else name


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _done(task: Task) -> bool:
    return task.status is Status.SUCCEEDED and task.result is not None


def _times(task: Task) -> dict[str, Any]:
    finished = task.finished_at if task.status.finished else None
    return {
        "createTime": unix_ms(task.created_at),
        "completeTime": unix_ms(finished) if finished is not None else None,
    }


def _flag(task: Task, failure: str) -> str:
    if _done(task):
        return "SUCCESS"
    if failed(task):
        return "CREATE_TASK_FAILED" if task.fail_code == 400 else failure
    return "PENDING"


def _errors(task: Task) -> dict[str, Any]:
    return {
        "errorCode": (task.fail_code or 500) if failed(task) else None,
        "errorMessage": fail_msg(task) if failed(task) else None,
    }


# lyrics ------------------------------------------------------------------------------


def _lyrics_items(task: Task) -> list[dict[str, Any]]:
    if not _done(task):
        return []
    assert task.result is not None
    texts = task.result.of_role("text")
    sheets = list(((texts[0].data or {}).get("lyrics") or []) if texts else [])
    return [
        {
            "text": str(s.get("text") or ""),
            "title": str(s.get("title") or ""),
            "status": "complete",
            "errorMessage": "",
        }
        for s in sheets
    ]


def lyrics_record(task: Task, links: MediaLinks) -> dict[str, Any]:
    if _done(task):
        status = "SUCCESS"
    elif failed(task):
        status = "CREATE_TASK_FAILED" if task.fail_code == 400 else "GENERATE_LYRICS_FAILED"
    else:
        status = "PENDING"
    return {
        "taskId": task.id,
        "param": json_text(submitted_request(task, links)),
        "response": {"taskId": task.id, "data": _lyrics_items(task)},
        "status": status,
        "type": "LYRICS",
        **_errors(task),
    }


def lyrics_payload(task: Task, links: MediaLinks) -> dict[str, Any]:
    if failed(task):
        return {
            "code": 500 if task.fail_code != 400 else 400,
            "msg": fail_msg(task),
            "data": {"callbackType": "error", "taskId": task.id, "data": []},
        }
    return {
        "code": 200,
        "msg": "All generated successfully.",
        "data": {"callbackType": "complete", "taskId": task.id, "data": _lyrics_items(task)},
    }


# WAV ----------------------------------------------------------------------------------


def _first_url(task: Task, links: MediaLinks, role: str) -> str | None:
    if not _done(task):
        return None
    assert task.result is not None
    found = task.result.of_role(role)
    return links.url(task, found[0].key) if found else None


def wav_record(task: Task, links: MediaLinks) -> dict[str, Any]:
    url = _first_url(task, links, "audio")
    return {
        "taskId": task.id,
        "musicId": str(task.params.get("audio_id") or ""),
        "callbackUrl": task.callback_url or "",
        "response": {"audioWavUrl": url} if url else None,
        "successFlag": _flag(task, "GENERATE_WAV_FAILED"),
        **_times(task),
        **_errors(task),
    }


def wav_payload(task: Task, links: MediaLinks) -> dict[str, Any]:
    url = _first_url(task, links, "audio")
    if url is None:
        return {"code": 500, "msg": fail_msg(task), "data": {"audioWavUrl": "", "task_id": task.id}}
    return {"code": 200, "msg": "success", "data": {"audioWavUrl": url, "task_id": task.id}}


# stems --------------------------------------------------------------------------------


def _stems(task: Task, links: MediaLinks) -> list[tuple[str, str, str, float]]:
    """(name, id, url, duration) of each stem, in the engine's order."""
    if not _done(task):
        return []
    assert task.result is not None
    return [
        (str(d.get("name") or ""), str(d.get("id") or ""), links.url(task, a.key), a.duration)
        for a in task.result.of_role("stem")
        for d in [a.data or {}]
    ]


def stems_record(task: Task, links: MediaLinks) -> dict[str, Any]:
    stems = _stems(task, links)
    response: dict[str, Any] | None = None
    if _done(task):
        urls = {name: url for name, _, url, _ in stems}
        response = {
            "id": task.id,
            "originUrl": "",
            "originData": [
                {
                    "duration": round(duration, 2),
                    "audio_url": url,
                    "stem_type_group_name": STEM_GROUP.get(name, name.title()),
                    "id": stem_id,
                }
                for name, stem_id, url, duration in stems
            ],
            **{_camel(_kie(k)) + "Url": urls.get(k) for k in STEM_KEYS},
        }
    return {
        "taskId": task.id,
        "musicId": str(task.params.get("audio_id") or ""),
        "audioId": str(task.params.get("audio_id") or ""),
        "musicIndex": int(task.params.get("music_index") or 0),
        "type": str(task.params.get("mode") or "separate_vocal"),
        "callbackUrl": task.callback_url or "",
        "response": response,
        "successFlag": _flag(task, "GENERATE_AUDIO_FAILED"),
        **_times(task),
        **_errors(task),
    }


def stems_payload(task: Task, links: MediaLinks) -> dict[str, Any]:
    if not _done(task):
        return {
            "code": 500,
            "msg": fail_msg(task),
            "data": {"task_id": task.id, "vocal_removal_info": None},
        }
    urls = {name: url for name, _, url, _ in _stems(task, links)}
    split = task.params.get("mode") == "split_stem"
    keys = [k for k in STEM_KEYS if k != "instrumental"] if split else ["instrumental", "vocals"]
    info: dict[str, Any] = {"origin_url": ""}
    info |= {f"{_kie(k)}_url": urls.get(k, "") for k in keys}
    return {
        "code": 200,
        "msg": "vocal Removal generated successfully.",
        "data": {"task_id": task.id, "vocal_removal_info": info},
    }


# MIDI ---------------------------------------------------------------------------------


def _instruments(task: Task) -> list[dict[str, Any]]:
    if not _done(task):
        return []
    assert task.result is not None
    texts = task.result.of_role("text")
    return list(((texts[0].data or {}).get("instruments") or []) if texts else [])


def midi_record(task: Task, links: MediaLinks) -> dict[str, Any]:
    done = _done(task)
    return {
        "taskId": task.id,
        "recordTaskId": -1,
        "audioId": str(task.params.get("audio_id") or ""),
        "callbackUrl": task.callback_url or "",
        "midiData": {"state": "complete", "instruments": _instruments(task)} if done else None,
        "successFlag": 1 if done else (2 if failed(task) else 0),
        **_times(task),
        **_errors(task),
    }


def midi_payload(task: Task, links: MediaLinks) -> dict[str, Any]:
    if not _done(task):
        return {
            "code": 500,
            "msg": fail_msg(task),
            "data": {"taskId": task.id, "state": "failed", "instruments": []},
        }
    return {
        "code": 200,
        "msg": "success",
        "data": {"taskId": task.id, "state": "complete", "instruments": _instruments(task)},
    }


# music video --------------------------------------------------------------------------


def mp4_record(task: Task, links: MediaLinks) -> dict[str, Any]:
    url = _first_url(task, links, "video")
    return {
        "taskId": task.id,
        "musicId": str(task.params.get("audio_id") or ""),
        "audioId": str(task.params.get("audio_id") or ""),
        "callbackUrl": task.callback_url or "",
        "response": {"videoUrl": url} if url else None,
        "successFlag": _flag(task, "GENERATE_MP4_FAILED"),
        **_times(task),
        **_errors(task),
    }


def mp4_payload(task: Task, links: MediaLinks) -> dict[str, Any]:
    url = _first_url(task, links, "video")
    if url is None:
        return {"code": 500, "msg": INTERNAL_ERROR, "data": {"task_id": task.id, "video_url": ""}}
    return {"code": 200, "msg": "success", "data": {"task_id": task.id, "video_url": url}}


# cover art ----------------------------------------------------------------------------


def _images(task: Task, links: MediaLinks) -> list[str]:
    if not _done(task):
        return []
    assert task.result is not None
    return [links.url(task, a.key) for a in task.result.of_role("image")]


def cover_record(task: Task, links: MediaLinks) -> dict[str, Any]:
    if _done(task):
        flag = 1
    elif failed(task):
        flag = 3
    else:
        flag = 2 if task.status is Status.RUNNING else 0
    finished = task.finished_at if task.status.finished else None
    return {
        "taskId": task.id,
        "parentTaskId": task.parent_id or "",
        "callbackUrl": task.callback_url or "",
        "completeTime": iso_time(finished) if finished is not None else None,
        "response": {"images": _images(task, links)} if _done(task) else None,
        "successFlag": flag,
        "createTime": iso_time(task.created_at),
        "errorCode": (500 if failed(task) else 200) if task.status.finished else None,
        "errorMessage": fail_msg(task) if failed(task) else None,
    }


def cover_payload(task: Task, links: MediaLinks) -> dict[str, Any]:
    if not _done(task):
        return {"code": 500, "msg": fail_msg(task), "data": {"taskId": task.id, "images": []}}
    return {
        "code": 200,
        "msg": "success",
        "data": {"taskId": task.id, "images": _images(task, links)},
    }
