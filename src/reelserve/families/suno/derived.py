"""Suno's other task endpoints: lyrics, WAV, stems, MIDI, music video, cover art (notes §4.9–§4.13).

Each is a task of its own family (`Dialect.SUNO_*`, its own id prefix and
record endpoint) made from a finished song's track (WAV, stems, video), a
song (cover art) or a stems task (MIDI):
- lyrics (`write_lyrics`): two lyric sheets from a prompt of at most 200 words;
- WAV (`convert_audio`): the track as 16-bit PCM; one per track — a second
  request answers KIE's 409 "WAV record already exists" with the first's id;
- stems (`separate_stems`): `separate_vocal` (vocals, instrumental) or
  `split_stem` (up to 12);
- MIDI (`audio_to_midi`): the notes of a stems task's stems (all, or the one
  `audioId` names: an `originData[].id`);
- music video (`music_video`): 960×540 H.264 of the track with its cover, a
  visualiser, `author` and `domainName`;
- cover art (`text_to_image`): two 1024×1024 images for a song; one cover
  task per song — a second request answers code 400 with the first's id
  (notes §4.9).
"""

from __future__ import annotations

from typing import Any

from reelserve.engines.base import Capability
from reelserve.errors import ValidationFailed
from reelserve.families.common import plan
from reelserve.families.suno import schemas
from reelserve.families.suno.inputs import (
    audio_blob,
    callback_url,
    finished_task,
    song_track,
)
from reelserve.families.suno.rules import other_id
from reelserve.store.keys import ApiKey
from reelserve.tasks.models import Dialect, NewTask, Status
from reelserve.tasks.service import TaskService

C = Capability
API = "/api/v1"
LYRICS_MAX_WORDS = 200
VIDEO_SIZE = (960, 540)
COVER_SIZE = 1024


class Existing(Exception):
    """A task of this kind exists already for that input; the route answers `code`, `msg`
    and the existing task's id in `data`."""

    def __init__(self, code: int, msg: str, task_id: str) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.task_id = task_id


async def _task(
    service: TaskService,
    key: ApiKey,
    *,
    dialect: Dialect,
    prefix: str,
    operation: Capability,
    model: str,
    submitted: dict[str, Any],
    spec: dict[str, Any],
    sources: list[dict[str, Any]],
    parent_id: str | None,
    callback: str | None,
    extra: dict[str, Any] | None = None,
) -> str:
    engine, *fallbacks = service.admit(operation, dialect, model)
    params: dict[str, Any] = {
        "model": model,
        "model_id": model,
        "values": submitted,
        "spec": spec,
        "sources": sources,
        "inputs": {},
        "fallbacks": fallbacks,
        "count": spec["count"],
        **(extra or {}),
    }
    return await service.submit(
        NewTask(
            id=other_id(prefix),
            api_key_id=key.id,
            dialect=dialect,
            operation=operation.value,
            engine=engine,
            params=params,
            request=submitted,
            parent_id=parent_id,
            callback_url=callback,
        ),
        key,
    )


async def lyrics(service: TaskService, key: ApiKey, data: dict[str, Any]) -> str:
    values = schemas.check(API + "/lyrics", data)
    prompt = str(values["prompt"])
    words = len(prompt.split())
    if words > LYRICS_MAX_WORDS:
        raise ValidationFailed("prompt", f"must be at most {LYRICS_MAX_WORDS} words (got {words})")
    callback = callback_url(service, values.get("callBackUrl"), required=False)
    return await _task(
        service,
        key,
        dialect=Dialect.SUNO_LYRICS,
        prefix="lyrics",
        operation=C.WRITE_LYRICS,
        model="suno/lyrics",
        submitted=data,
        spec=plan(C.WRITE_LYRICS, prompt=prompt, count=2),
        sources=[],
        parent_id=None,
        callback=callback,
    )


async def _live_child(service: TaskService, parent_id: str, dialect: Dialect, **match: Any) -> str:
    """The id of a task of `dialect` made from `parent_id` (matching `match` params) that
    has not failed, else ""."""
    for child in await service.store.tasks.children(parent_id):
        if child.dialect is not dialect or child.status in (Status.FAILED, Status.CANCELED):
            continue
        if all(child.params.get(k) == v for k, v in match.items()):
            return child.id
    return ""


async def wav(service: TaskService, key: ApiKey, data: dict[str, Any]) -> str:
    values = schemas.check(API + "/wav/generate", data)
    track = await song_track(service, key, values.get("audioId"), values.get("taskId"))
    callback = callback_url(service, values.get("callBackUrl"), required=True)
    existing = await _live_child(service, track.task.id, Dialect.SUNO_WAV, audio_id=track.id)
    if existing:
        raise Existing(409, "Conflict - WAV record already exists", existing)
    spec = plan(C.CONVERT_AUDIO, prompt="", duration_s=track.audio.duration)
    spec["audio_format"] = "wav"
    return await _task(
        service,
        key,
        dialect=Dialect.SUNO_WAV,
        prefix="wav",
        operation=C.CONVERT_AUDIO,
        model="suno/wav",
        submitted=data,
        spec=spec,
        sources=[track.source()],
        parent_id=track.task.id,
        callback=callback,
        extra={"audio_id": track.id, "duration": track.audio.duration},
    )


async def stems(service: TaskService, key: ApiKey, data: dict[str, Any]) -> str:
    values = schemas.check(API + "/vocal-removal/generate", data)
    track = await song_track(service, key, values.get("audioId"), values.get("taskId"))
    callback = callback_url(service, values.get("callBackUrl"), required=True)
    mode = str(values.get("type") or "separate_vocal")
    spec = plan(
        C.SEPARATE_STEMS,
        prompt="",
        duration_s=track.audio.duration,
        extras={"mode": mode, "source_track": track.source_track()},
    )
    return await _task(
        service,
        key,
        dialect=Dialect.SUNO_STEMS,
        prefix="stems",
        operation=C.SEPARATE_STEMS,
        model="suno/stems",
        submitted=data,
        spec=spec,
        sources=[track.source()],
        parent_id=track.task.id,
        callback=callback,
        extra={
            "audio_id": track.id,
            "music_index": track.index,
            "mode": mode,
            "duration": track.audio.duration,
        },
    )


async def midi(service: TaskService, key: ApiKey, data: dict[str, Any]) -> str:
    values = schemas.check(API + "/midi/generate", data)
    task = await finished_task(
        service, key, str(values.get("taskId") or "").strip(), (Dialect.SUNO_STEMS,),
        "vocal-separation",
    )  # fmt: skip
    assert task.result is not None
    stems_ = task.result.of_role("stem")
    wanted = str(values.get("audioId") or "").strip().lower()
    if wanted:
        stems_ = [s for s in stems_ if (s.data or {}).get("id") == wanted]
        if not stems_:
            raise ValidationFailed(
                "audioId", f"is not a stem of task {task.id} (response.originData[].id)"
            )
    callback = callback_url(service, values.get("callBackUrl"), required=True)
    names = [str((s.data or {}).get("name") or "other") for s in stems_]
    sources = [
        audio_blob("taskId", s.key, s.mime, role=name)
        for s, name in zip(stems_, names, strict=True)
    ]
    spec = plan(C.AUDIO_TO_MIDI, prompt="", extras={"clip_names": names})
    return await _task(
        service,
        key,
        dialect=Dialect.SUNO_MIDI,
        prefix="midi",
        operation=C.AUDIO_TO_MIDI,
        model="suno/midi",
        submitted=data,
        spec=spec,
        sources=sources,
        parent_id=task.id,
        callback=callback,
        extra={"audio_id": wanted},
    )


async def music_video(service: TaskService, key: ApiKey, data: dict[str, Any]) -> str:
    values = schemas.check(API + "/mp4/generate", data)
    track = await song_track(service, key, values.get("audioId"), values.get("taskId"))
    callback = callback_url(service, values.get("callBackUrl"), required=True)
    width, height = VIDEO_SIZE
    sources = [track.source()]
    if track.cover is not None:
        cover = track.cover
        sources.append({**audio_blob("audioId", cover.key, cover.mime, role="image"),
                        "kind": "image"})  # fmt: skip
    info = track.info
    spec = plan(
        C.MUSIC_VIDEO,
        prompt=str(info.get("title") or ""),
        ratio="16:9",
        width=width,
        height=height,
        duration_s=track.audio.duration,
        sound=True,
        extras={
            "title": str(info.get("title") or ""),
            "author": str(values.get("author") or ""),
            "domain_name": str(values.get("domainName") or ""),
            "source_track": track.source_track(),
        },
    )
    return await _task(
        service,
        key,
        dialect=Dialect.SUNO_MP4,
        prefix="mp4",
        operation=C.MUSIC_VIDEO,
        model="suno/mp4",
        submitted=data,
        spec=spec,
        sources=sources,
        parent_id=track.task.id,
        callback=callback,
        extra={"audio_id": track.id, "duration": track.audio.duration, "resolution": "540p"},
    )


async def cover(service: TaskService, key: ApiKey, data: dict[str, Any]) -> str:
    values = schemas.check(API + "/suno/cover/generate", data)
    task = await finished_task(
        service, key, str(values.get("taskId") or "").strip(), (Dialect.SUNO,), "music"
    )
    callback = callback_url(service, values.get("callBackUrl"), required=False)
    existing = await _live_child(service, task.id, Dialect.SUNO_COVER)
    if existing:
        raise Existing(400, "Cover record already exists for this music task", existing)
    assert task.result is not None
    first = next(iter(task.result.of_role("track")), None)
    info = (first.data or {}) if first is not None else {}
    prompt = ", ".join(p for p in (str(info.get("title") or ""), str(info.get("tags") or "")) if p)
    spec = plan(
        C.TEXT_TO_IMAGE,
        prompt=prompt or "cover art",
        ratio="1:1",
        width=COVER_SIZE,
        height=COVER_SIZE,
        count=2,
        image_format="png",
    )
    return await _task(
        service,
        key,
        dialect=Dialect.SUNO_COVER,
        prefix="cover",
        operation=C.TEXT_TO_IMAGE,
        model="suno/cover",
        submitted=data,
        spec=spec,
        sources=[],
        parent_id=task.id,
        callback=callback,
    )
