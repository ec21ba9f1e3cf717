"""Each family's wire at an upstream: where its create goes, where it is polled, and how
the upstream's record reads (its state, progress, failure and result files).

The create path is the one the client called (`params.wire.path`, recorded at
submit); the record path is the family's. A record is read into a `Reading`
whose outputs name the artifact role each file takes here, the roles the
family's own views read (`families/<f>/views.py`), so an upstream task is
shown exactly like a local one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from reelserve.tasks.models import Dialect, Task

PENDING, RUNNING, SUCCEEDED, FAILED = "pending", "running", "succeeded", "failed"


class NotForwardable(Exception):
    """This task cannot be sent to an upstream (no create of its family, a parent made
    elsewhere): not the input's fault, so the route's next engine takes it."""


@dataclass(frozen=True)
class Output:
    """One result of the upstream task: a file to fetch (`url`) or inline JSON (`data`)."""

    role: str
    kind: str
    url: str = ""
    data: dict[str, Any] | None = None
    index: int = 0


@dataclass(frozen=True)
class Reading:
    state: str
    progress: float | None = None
    """0..1 when the upstream reports it."""
    fail_code: int = 0
    fail_msg: str = ""
    input_fault: bool = False
    """The upstream says the input was at fault (the task fails; no fallback)."""
    outputs: tuple[Output, ...] = ()
    stage: str = ""
    """Suno: `text`, `first` or "" (what the upstream finished so far)."""
    tracks: tuple[dict[str, Any], ...] = field(default=(), repr=False)
    """Suno: the upstream's `sunoData` items."""


RECORDS = {
    Dialect.RUNWAY: "/api/v1/runway/record-detail",
    Dialect.MARKET: "/api/v1/jobs/recordInfo",
    Dialect.VEO: "/api/v1/veo/record-info",
    Dialect.GPT4O_IMAGE: "/api/v1/gpt4o-image/record-info",
    Dialect.FLUX_KONTEXT: "/api/v1/flux/kontext/record-info",
    Dialect.SUNO: "/api/v1/generate/record-info",
}
"""Record endpoints by family (Aleph's is next to its create path)."""

CREATES = {
    Dialect.RUNWAY: ("/api/v1/runway/generate", "/api/v1/runway/extend"),
    Dialect.MARKET: ("/api/v1/jobs/createTask",),
    Dialect.VEO: ("/api/v1/veo/generate", "/api/v1/veo/extend"),
    Dialect.GPT4O_IMAGE: ("/api/v1/gpt4o-image/generate",),
    Dialect.FLUX_KONTEXT: ("/api/v1/flux/kontext/generate",),
    Dialect.SUNO: (
        "/api/v1/generate",
        "/api/v1/generate/extend",
        "/api/v1/generate/upload-cover",
        "/api/v1/generate/upload-extend",
        "/api/v1/generate/add-instrumental",
        "/api/v1/generate/add-vocals",
        "/api/v1/generate/replace-section",
        "/api/v1/generate/mashup",
        "/api/v1/generate/sounds",
    ),
}
"""The creates that can be forwarded, by family. Veo's 1080p/4K renditions and Suno's
WAV, stems, MIDI, video, lyrics and cover art are made here from the stored files."""

CALLBACK_REQUIRED = frozenset({Dialect.SUNO})
"""Families whose create needs a `callBackUrl` (KIE refuses it without one)."""


def paths(task: Task) -> tuple[str, str]:
    """(create path, record path) of `task` at an upstream; NotForwardable when none."""
    wire = task.params.get("wire") or {}
    create = str(wire.get("path") or "")
    if not create:
        raise NotForwardable(f"a {task.dialect.value} {task.operation} task is made here only")
    if task.dialect is Dialect.ALEPH and create.endswith("/generate"):
        return create, create.removesuffix("/generate") + "/record-info"
    if create not in CREATES.get(task.dialect, ()):
        raise NotForwardable(f"{create} is not forwarded to an upstream")
    return create, RECORDS[task.dialect]


def read(task: Task, data: Any) -> Reading:
    """The upstream's record `data` of `task`'s family, read."""
    if not isinstance(data, dict):
        return Reading(RUNNING)
    readers = {
        Dialect.RUNWAY: _runway,
        Dialect.ALEPH: _aleph,
        Dialect.MARKET: _market,
        Dialect.VEO: _veo,
        Dialect.GPT4O_IMAGE: _gpt4o,
        Dialect.FLUX_KONTEXT: _flux,
        Dialect.SUNO: _suno,
    }
    reader = readers.get(task.dialect)
    if reader is None:
        raise NotForwardable(f"{task.dialect.value} records are not read from an upstream")
    return reader(task, data)


def upstream_task_id(created: Any) -> str:
    """The upstream's task id in a create's `data` ("" when it has none)."""
    if isinstance(created, dict):
        value = created.get("taskId") or created.get("task_id") or ""
        return str(value)
    return ""


# --- readers -----------------------------------------------------------------


def _code(value: Any, default: int = 500) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _failed(code: int, message: str, *, input_fault: bool | None = None) -> Reading:
    fault = (400 <= code < 500) if input_fault is None else input_fault
    return Reading(FAILED, fail_code=code, fail_msg=message, input_fault=fault)


def _urls(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, str) and v]
    return []


def _market(task: Task, data: dict[str, Any]) -> Reading:
    state = str(data.get("state") or "")
    progress = data.get("progress")
    fraction = _code(progress, 0) / 100 if progress is not None else None
    if state == "fail":
        return _failed(_code(data.get("failCode")), str(data.get("failMsg") or "failed"))
    if state != "success":
        return Reading(PENDING if state in ("waiting", "queuing") else RUNNING, fraction)
    try:
        result = json.loads(str(data.get("resultJson") or "{}"))
    except ValueError:
        result = {}
    if not isinstance(result, dict):
        result = {}
    if isinstance(result.get("resultObject"), dict):
        return Reading(
            SUCCEEDED, 1.0, outputs=(Output("text", "text", data=result["resultObject"]),)
        )
    if "character_id" in result:
        text = {"character_id": result["character_id"]}
        return Reading(SUCCEEDED, 1.0, outputs=(Output("text", "text", data=text),))
    kind = str((task.params.get("spec") or {}).get("kind") or "image")
    role = kind if kind in ("video", "image", "audio") else "image"
    outputs = [Output(role, role, url) for url in _urls(result.get("resultUrls"))]
    outputs += [Output("first_frame", "image", u) for u in _urls(result.get("firstFrameUrl"))]
    outputs += [Output("last_frame", "image", u) for u in _urls(result.get("lastFrameUrl"))]
    return Reading(SUCCEEDED, 1.0, outputs=tuple(outputs))


def _video_and_cover(video: str, cover: str) -> tuple[Output, ...]:
    outputs = [Output("video", "video", video)]
    if cover:
        outputs.append(Output("cover", "image", cover))
    return tuple(outputs)


def _runway(task: Task, data: dict[str, Any]) -> Reading:
    state = str(data.get("state") or "")
    progress = data.get("progress")
    fraction = float(progress) if isinstance(progress, int | float) else None
    if state == "fail":
        return _failed(_code(data.get("failCode")), str(data.get("failMsg") or "failed"))
    if state != "success":
        return Reading(PENDING if state in ("wait", "queueing") else RUNNING, fraction)
    info = data.get("videoInfo") or {}
    video = str(info.get("videoUrl") or info.get("video_url") or "")
    if not video:
        return Reading(RUNNING, fraction)
    cover = str(info.get("imageUrl") or info.get("image_url") or "")
    return Reading(SUCCEEDED, 1.0, outputs=_video_and_cover(video, cover))


def _aleph(task: Task, data: dict[str, Any]) -> Reading:
    if data.get("successFlag") == 1:
        response = data.get("response") or {}
        video = str(response.get("resultVideoUrl") or "")
        cover = str(response.get("resultImageUrl") or "")
        if video:
            return Reading(SUCCEEDED, 1.0, outputs=_video_and_cover(video, cover))
    if data.get("state") == "fail" or _code(data.get("errorCode"), 0) not in (0, 200):
        return _failed(_code(data.get("errorCode")), str(data.get("errorMessage") or "failed"))
    return Reading(RUNNING)


def _flag_reading(flag: int, data: dict[str, Any]) -> Reading:
    """Veo's and Flux Kontext's `successFlag` before success: 0 running, 2 failed through
    the input, 3 generation failed."""
    if flag in (2, 3):
        return _failed(
            _code(data.get("errorCode"), 400 if flag == 2 else 501),
            str(data.get("errorMessage") or "failed"),
            input_fault=flag == 2,
        )
    return Reading(RUNNING)


def _veo(task: Task, data: dict[str, Any]) -> Reading:
    flag = _code(data.get("successFlag"), 0)
    if flag != 1:
        return _flag_reading(flag, data)
    response = data.get("response") or {}
    whole = _urls(response.get("fullResultUrls")) or _urls(response.get("resultUrls"))
    outputs = [Output("video", "video", u) for u in whole]
    new_parts = _urls(response.get("resultUrls"))
    if task.operation == "extend" and new_parts and new_parts != whole:
        outputs += [Output("segment", "video", u) for u in new_parts]
    return Reading(SUCCEEDED, 1.0, outputs=tuple(outputs))


def _gpt4o(task: Task, data: dict[str, Any]) -> Reading:
    flag = _code(data.get("successFlag"), 0)
    try:
        progress: float | None = float(data.get("progress") or 0)
    except (TypeError, ValueError):
        progress = None
    if flag == 2 or data.get("status") in ("CREATE_TASK_FAILED", "GENERATE_FAILED"):
        return _failed(_code(data.get("errorCode")), str(data.get("errorMessage") or "failed"))
    if flag != 1:
        return Reading(RUNNING, progress)
    response = data.get("response") or {}
    urls = _urls(response.get("resultUrls")) or _urls(response.get("result_urls"))
    return Reading(SUCCEEDED, 1.0, outputs=tuple(Output("image", "image", u) for u in urls))


def _flux(task: Task, data: dict[str, Any]) -> Reading:
    flag = _code(data.get("successFlag"), 0)
    if flag != 1:
        return _flag_reading(flag, data)
    response = data.get("response") or {}
    url = str(response.get("resultImageUrl") or response.get("originImageUrl") or "")
    return Reading(SUCCEEDED, 1.0, outputs=(Output("image", "image", url),) if url else ())


_SUNO_FAILED = {
    "CREATE_TASK_FAILED": True,
    "SENSITIVE_WORD_ERROR": True,
    "GENERATE_AUDIO_FAILED": False,
    "CALLBACK_EXCEPTION": False,
}
"""Suno's failed statuses, each: was the input at fault?"""


def _suno(task: Task, data: dict[str, Any]) -> Reading:
    status = str(data.get("status") or "PENDING")
    if status in _SUNO_FAILED:
        fault = _SUNO_FAILED[status]
        code = _code(data.get("errorCode"), 400 if fault else 501)
        message = str(data.get("errorMessage") or status)
        return _failed(code, message, input_fault=fault)
    response = data.get("response") or {}
    items = [i for i in response.get("sunoData") or [] if isinstance(i, dict)]
    stage = {"TEXT_SUCCESS": "text", "FIRST_SUCCESS": "first"}.get(status, "")
    outputs: list[Output] = []
    for index, item in enumerate(items):
        audio = str(item.get("audioUrl") or item.get("audio_url") or "")
        image = str(item.get("imageUrl") or item.get("image_url") or "")
        if audio:
            outputs.append(Output("track", "audio", audio, index=index))
        if audio and image:
            outputs.append(Output("track_cover", "image", image, index=index))
    state = SUCCEEDED if status == "SUCCESS" else RUNNING
    if state is SUCCEEDED and not any(o.role == "track" for o in outputs):
        state = RUNNING
    return Reading(state, None, outputs=tuple(outputs), stage=stage, tracks=tuple(items))
