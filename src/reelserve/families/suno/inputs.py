"""What a Suno task is made from: a track of an earlier song, uploaded audio, a callback URL.

A track of a song is found by its id (`audioId`; `rules.parse_track_id`
names its task), and must belong to the caller's key, to a song that
finished, and still have its media. Problems are 422s naming the field:
`audioId` (not a track, not a track of `taskId`), `taskId` (unknown for this
key, not finished, expired).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reelserve.catalogue.validate import Media, check_source
from reelserve.errors import NotFound, ValidationFailed
from reelserve.families.suno.rules import parse_track_id
from reelserve.store.keys import ApiKey
from reelserve.tasks.models import Artifact, Dialect, Status, Task
from reelserve.tasks.rules import DataUri, check_http_url
from reelserve.tasks.service import TaskService

AUDIO_ACCEPT = ["audio/mpeg", "audio/wav", "audio/x-wav", "audio/mp4", "audio/aac", "audio/ogg",
                "audio/flac", "audio/webm", "video/mp4"]  # fmt: skip


@dataclass(frozen=True)
class Track:
    """A stored track of a finished song: its task, index, audio and what the engine said of it."""

    task: Task
    index: int
    audio: Artifact
    cover: Artifact | None

    @property
    def id(self) -> str:
        return str((self.audio.data or {}).get("id") or "")

    @property
    def info(self) -> dict[str, Any]:
        return dict(self.audio.data or {})

    @property
    def version(self) -> str:
        return str(self.task.params.get("version") or "")

    def source_track(self) -> dict[str, Any]:
        """`params.source_track` for the engine (engines/base.MUSIC_OPERATIONS)."""
        info = self.info
        return {
            "title": info.get("title", ""),
            "lyrics": info.get("lyrics", ""),
            "tags": info.get("tags", ""),
            "duration": self.audio.duration,
            "words": info.get("words", []),
            "recipe": info.get("recipe", {}),
            "engine": self.task.engine,
        }

    def source(self, field: str = "audioId") -> dict[str, Any]:
        """The track as a task source (`worker/inputs.py` reads it from the blob store)."""
        return audio_blob(field, self.audio.key, self.audio.mime)


def audio_blob(field: str, key: str, mime: str, role: str = "audio") -> dict[str, Any]:
    return {
        "field": field,
        "index": None,
        "kind": "audio",
        "role": role,
        "accept": [],
        "max_bytes": 0,
        "blob": key,
        "mime": mime,
    }


async def finished_task(
    service: TaskService, key: ApiKey, task_id: str, dialects: tuple[Dialect, ...], what: str
) -> Task:
    """The caller's finished task `task_id` of `dialects`, else a 422 on `taskId`."""
    if not task_id:
        raise ValidationFailed("taskId", "is required")
    try:
        task = await service.get(key, task_id, dialects)
    except NotFound:
        raise ValidationFailed("taskId", f"is not a {what} task of this API key") from None
    if task.status is not Status.SUCCEEDED or task.result is None:
        state = "failed" if task.status.finished else "not finished yet"
        raise ValidationFailed("taskId", f"the {what} task has {state}")
    if task.media_expired:
        raise ValidationFailed("taskId", f"the {what} task's media has expired and was deleted")
    return task


async def song_track(
    service: TaskService, key: ApiKey, audio_id: str | None, task_id: str | None = None
) -> Track:
    """The track `audio_id` of a finished song (of `task_id`, when given)."""
    audio_id = (audio_id or "").strip()
    if not audio_id:
        raise ValidationFailed("audioId", "is required")
    parsed = parse_track_id(audio_id)
    wanted = (task_id or "").strip()
    if parsed is None:
        raise ValidationFailed("audioId", "is not a track id (sunoData[].id of a music task)")
    owner, index = parsed
    if wanted and wanted != owner:
        raise ValidationFailed("audioId", f"is not a track of task {wanted}")
    task = await finished_task(service, key, wanted or owner, (Dialect.SUNO,), "music")
    assert task.result is not None
    tracks = task.result.of_role("track")
    audio = next((a for a in tracks if (a.data or {}).get("index") == index), None)
    if audio is None or (audio.data or {}).get("id") != audio_id.lower():
        raise ValidationFailed("audioId", f"is not a track of task {task.id}")
    covers = [a for a in task.result.of_role("track_cover") if (a.data or {}).get("index") == index]
    return Track(task, index, audio, covers[0] if covers else None)


def callback_url(service: TaskService, value: str | None, *, required: bool) -> str | None:
    """`callBackUrl`, an http(s) URL outside private networks (required where KIE says so)."""
    text = (value or "").strip()
    if not text:
        if required:
            raise ValidationFailed("callBackUrl", "is required")
        return None
    url = check_http_url("callBackUrl", text)
    service.check_outbound("callBackUrl", url)
    return url


def upload_source(service: TaskService, field: str, value: Any) -> str | DataUri:
    """An uploaded audio file's URL (or data: URI), checked now; fetched by the worker."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed(field, "must be an http(s) URL of an audio file")
    limit = service.settings.source_max_bytes
    parsed = check_source(field, value.strip(), Media("audio", {}, limit))
    service.check_source(field, parsed)
    return parsed


async def stored_upload(
    service: TaskService,
    task_id: str,
    field: str,
    index: int | None,
    value: str | DataUri,
    inputs: dict[str, str],
) -> dict[str, Any]:
    path = field if index is None else f"{field}.{index}"
    name = f"audio-{index or 0}"
    stored = await service.store_input(task_id, path, name, value, inputs)
    assert stored is not None
    return {
        "field": field,
        "index": index,
        "kind": "audio",
        "role": "audio",
        "accept": AUDIO_ACCEPT,
        "max_bytes": 0,
        **stored,
    }
