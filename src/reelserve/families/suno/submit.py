"""Suno's song endpoints as tasks: generate, extend, upload-cover, upload-extend,
add-instrumental, add-vocals, replace-section, mashup, sounds (notes §4.2–§4.9, §6).

Each is a music task (`Dialect.SUNO`, id `suno_…`) of two tracks, polled on
`/api/v1/generate/record-info`, with three staged callbacks. The body is
checked against KIE's schema (`schemas.py`), then against the rules the
schema cannot say (`rules.py`: customMode, per-version limits) and against
the track it builds on (`inputs.py`). The plan's `extras` are the engine's
`params` (engines/base.MUSIC_OPERATIONS).

Lengths (`rules.track_seconds`, the spec's Decision): generate as the rule
says; extend = `continueAt` + a new part by the same rule (the extension's
`prompt` as its lyrics when the source has vocals), at most 8 minutes;
upload-cover, add-vocals, add-instrumental and replace-section keep their
input's length (the worker reads it); mashup lasts its longer input (≤ 240 s);
sounds last 16 beats at `soundTempo` (120: 8 s), 2–30 s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reelserve.engines.base import Capability
from reelserve.errors import ValidationFailed
from reelserve.families.common import plan
from reelserve.families.suno import rules, schemas
from reelserve.families.suno.inputs import (
    Track,
    callback_url,
    song_track,
    stored_upload,
    upload_source,
)
from reelserve.store.keys import ApiKey
from reelserve.tasks.models import Dialect, NewTask
from reelserve.tasks.service import TaskService, without_inputs

C = Capability
API = "/api/v1"
SOUND_BEATS = 16


def _check(service: TaskService, path: str, data: dict[str, Any]) -> dict[str, Any]:
    return schemas.check(API + path, data, service.settings.source_max_bytes)


def _style(values: dict[str, Any], version: str, *, style_field: str = "style") -> dict[str, Any]:
    """The engine's style params from a checked body (`tags` is add-instrumental's style)."""
    return {
        "style": str(values.get(style_field) or ""),
        "title": str(values.get("title") or ""),
        "negative_tags": str(values.get("negativeTags") or ""),
        "vocal_gender": str(values.get("vocalGender") or ""),
        "style_weight": values.get("styleWeight"),
        "weirdness": values.get("weirdnessConstraint"),
        "audio_weight": values.get("audioWeight"),
        "version": version,
    }


async def _persona(
    service: TaskService, key: ApiKey, values: dict[str, Any], custom: bool
) -> dict[str, Any] | None:
    persona_id = str(values.get("personaId") or "").strip()
    if not persona_id:
        return None
    if not custom:
        raise ValidationFailed("personaId", "is used only in custom mode (customMode: true)")
    persona = await service.store.personas.get(persona_id)
    if persona is None or persona.api_key_id != key.id:
        raise ValidationFailed("personaId", "is not a persona of this API key")
    try:
        track = await _track(service, key, persona.audio_id, persona.task_id)
    except ValidationFailed:
        raise ValidationFailed("personaId", "its track has expired or is gone") from None
    return {
        "id": persona.id,
        "name": persona.name,
        "description": persona.description,
        "source_track": track.source_track(),
    }


async def _track(service: TaskService, key: ApiKey, audio_id: Any, task_id: Any = None) -> Track:
    return await song_track(service, key, str(audio_id or ""), str(task_id or "") or None)


async def _music(
    service: TaskService,
    key: ApiKey,
    *,
    endpoint: str,
    operation: Capability,
    version: str,
    submitted: dict[str, Any],
    prompt: str,
    duration_s: float,
    extras: dict[str, Any],
    uploads: Sequence[tuple[str, int | None, Any]] = (),
    track: Track | None = None,
    callback: str | None,
) -> str:
    engine, *fallbacks = service.admit(operation, Dialect.SUNO, f"suno/{version}")
    task_id = rules.new_music_id()
    inputs: dict[str, str] = {}
    sources = [
        await stored_upload(service, task_id, field, index, value, inputs)
        for field, index, value in uploads
    ]
    if track is not None:
        sources.insert(0, track.source())
        extras = {**extras, "source_track": track.source_track()}
    spec = plan(
        operation,
        prompt=prompt,
        duration_s=duration_s,
        count=rules.TRACKS,
        extras={**extras, "version": version},
    )
    request = without_inputs(submitted, inputs)
    params: dict[str, Any] = {
        "model": f"suno/{version}",
        "model_id": f"suno/{version}",
        "suno": endpoint,
        "version": version,
        "values": request,
        "spec": spec,
        "sources": sources,
        "inputs": inputs,
        "fallbacks": fallbacks,
        "count": rules.TRACKS,
        "duration": duration_s,
        "parent_music_id": track.id if track is not None else "",
    }
    return await service.submit(
        NewTask(
            id=task_id,
            api_key_id=key.id,
            dialect=Dialect.SUNO,
            operation=operation.value,
            engine=engine,
            params=params,
            request=request,
            parent_id=track.task.id if track is not None else None,
            callback_url=callback,
        ),
        key,
    )


async def generate(service: TaskService, key: ApiKey, data: dict[str, Any]) -> str:
    values = _check(service, "/generate", data)
    version = str(values["model"])
    custom, instrumental = bool(values["customMode"]), bool(values["instrumental"])
    prompt = str(values.get("prompt") or "")
    rules.custom_fields(
        custom=custom,
        instrumental=instrumental,
        prompt=prompt,
        style=values.get("style"),
        title=values.get("title"),
        version=version,
    )
    callback = callback_url(service, values.get("callBackUrl"), required=True)
    persona = await _persona(service, key, values, custom)
    lyrics = prompt if custom and not instrumental else None
    return await _music(
        service,
        key,
        endpoint="generate",
        operation=C.TEXT_TO_MUSIC,
        version=version,
        submitted=data,
        prompt="" if custom and instrumental else prompt,
        duration_s=rules.track_seconds(lyrics),
        extras={
            **_style(values, version),
            "custom": custom,
            "instrumental": instrumental,
            "persona": persona,
        },
        callback=callback,
    )


def _continue_at(values: dict[str, Any], length: float | None) -> float | None:
    at = values.get("continueAt")
    if at is None:
        return None
    at = float(at)
    if at <= 0:
        raise ValidationFailed("continueAt", "must be more than 0 seconds")
    if length is not None and at >= length:
        raise ValidationFailed(
            "continueAt", f"must be less than the track's length ({length:.2f} s)"
        )
    return round(at, 2)


def _extension_fields(values: dict[str, Any], version: str, *, instrumental: bool) -> None:
    """defaultParamFlag true: the extension's own prompt (lyrics), style and title."""
    if not values.get("defaultParamFlag"):
        return
    for field in ("style", "title"):
        if not str(values.get(field) or "").strip():
            raise ValidationFailed(field, "is required when defaultParamFlag is true")
    if not instrumental and not str(values.get("prompt") or "").strip():
        raise ValidationFailed("prompt", "is required when defaultParamFlag is true")
    if values.get("continueAt") is None:
        raise ValidationFailed("continueAt", "is required when defaultParamFlag is true")
    rules.limit("prompt", values.get("prompt"), rules.prompt_max(version))
    rules.limit("style", values.get("style"), rules.style_max(version))
    rules.limit("title", values.get("title"), rules.extend_title_max(version))


async def extend(service: TaskService, key: ApiKey, data: dict[str, Any]) -> str:
    values = _check(service, "/generate/extend", data)
    version = str(values["model"])
    track = await _track(service, key, values.get("audioId"))
    if track.version and version != track.version:
        raise ValidationFailed("model", f"must be {track.version}, the model of the source track")
    source = track.source_track()
    instrumental = not str(source["lyrics"]).strip()
    _extension_fields(values, version, instrumental=instrumental)
    callback = callback_url(service, values.get("callBackUrl"), required=True)
    at = _continue_at(values, track.audio.duration)
    start = at if at is not None else round(track.audio.duration, 2)
    own = bool(values.get("defaultParamFlag"))
    prompt = str(values.get("prompt") or "")
    part = rules.track_seconds(None if instrumental else prompt)
    style = (
        _style(values, version)
        if own
        else {
            **_style(values, version),
            "style": source["tags"],
            "title": source["title"],
        }
    )
    persona = await _persona(service, key, values, True)
    return await _music(
        service,
        key,
        endpoint="extend",
        operation=C.EXTEND_MUSIC,
        version=version,
        submitted=data,
        prompt=prompt,
        duration_s=min(rules.MAX_UPLOAD_S, start + part),
        extras={
            **style,
            "custom": own,
            "instrumental": instrumental,
            "continue_at": start,
            "part_s": part,
            "persona": persona,
        },
        track=track,
        callback=callback,
    )


async def upload_cover(service: TaskService, key: ApiKey, data: dict[str, Any]) -> str:
    values = _check(service, "/generate/upload-cover", data)
    version = str(values["model"])
    custom, instrumental = bool(values["customMode"]), bool(values["instrumental"])
    upload = upload_source(service, "uploadUrl", values.get("uploadUrl"))
    prompt = str(values.get("prompt") or "")
    rules.custom_fields(
        custom=custom,
        instrumental=instrumental,
        prompt=prompt,
        style=values.get("style"),
        title=values.get("title"),
        version=version,
    )
    callback = callback_url(service, values.get("callBackUrl"), required=True)
    persona = await _persona(service, key, values, custom)
    return await _music(
        service,
        key,
        endpoint="upload_cover",
        operation=C.COVER_MUSIC,
        version=version,
        submitted=data,
        prompt="" if instrumental else prompt,
        duration_s=0.0,
        extras={
            **_style(values, version),
            "custom": custom,
            "instrumental": instrumental,
            "persona": persona,
            "max_source_s": 60.0 if version == "V4_5ALL" else rules.MAX_UPLOAD_S,
        },
        uploads=[("uploadUrl", None, upload)],
        callback=callback,
    )


async def upload_extend(service: TaskService, key: ApiKey, data: dict[str, Any]) -> str:
    values = _check(service, "/generate/upload-extend", data)
    version = str(values["model"])
    instrumental = bool(values["instrumental"])
    upload = upload_source(service, "uploadUrl", values.get("uploadUrl"))
    _extension_fields(values, version, instrumental=instrumental)
    callback = callback_url(service, values.get("callBackUrl"), required=True)
    at = _continue_at(values, None)
    prompt = str(values.get("prompt") or "")
    part = rules.track_seconds(None if instrumental else prompt)
    persona = await _persona(service, key, values, True)
    return await _music(
        service,
        key,
        endpoint="upload_extend",
        operation=C.EXTEND_MUSIC,
        version=version,
        submitted=data,
        prompt=prompt,
        duration_s=0.0,
        extras={
            **_style(values, version),
            "custom": bool(values.get("defaultParamFlag")),
            "instrumental": instrumental,
            "continue_at": at,
            "part_s": part,
            "persona": persona,
            "max_source_s": rules.MAX_UPLOAD_S,
        },
        uploads=[("uploadUrl", None, upload)],
        callback=callback,
    )


async def add_instrumental(service: TaskService, key: ApiKey, data: dict[str, Any]) -> str:
    values = _check(service, "/generate/add-instrumental", data)
    version = str(values["model"])
    upload = upload_source(service, "uploadUrl", values.get("uploadUrl"))
    rules.limit("tags", values.get("tags"), rules.style_max(version))
    rules.limit("title", values.get("title"), rules.TITLE_MAX)
    callback = callback_url(service, values.get("callBackUrl"), required=True)
    return await _music(
        service,
        key,
        endpoint="add_instrumental",
        operation=C.ADD_INSTRUMENTAL,
        version=version,
        submitted=data,
        prompt="",
        duration_s=0.0,
        extras={**_style(values, version, style_field="tags"), "max_source_s": rules.MAX_UPLOAD_S},
        uploads=[("uploadUrl", None, upload)],
        callback=callback,
    )


async def add_vocals(service: TaskService, key: ApiKey, data: dict[str, Any]) -> str:
    values = _check(service, "/generate/add-vocals", data)
    version = str(values["model"])
    upload = upload_source(service, "uploadUrl", values.get("uploadUrl"))
    rules.limit("prompt", values.get("prompt"), rules.prompt_max(version))
    rules.limit("style", values.get("style"), rules.style_max(version))
    rules.limit("title", values.get("title"), rules.TITLE_MAX)
    callback = callback_url(service, values.get("callBackUrl"), required=True)
    return await _music(
        service,
        key,
        endpoint="add_vocals",
        operation=C.ADD_VOCALS,
        version=version,
        submitted=data,
        prompt=str(values["prompt"]),
        duration_s=0.0,
        extras={**_style(values, version), "max_source_s": rules.MAX_UPLOAD_S},
        uploads=[("uploadUrl", None, upload)],
        callback=callback,
    )


SECTION_MIN_S, SECTION_MAX_S = 6.0, 60.0


async def replace_section(service: TaskService, key: ApiKey, data: dict[str, Any]) -> str:
    values = _check(service, "/generate/replace-section", data)
    track = await _track(service, key, values.get("audioId"), values.get("taskId"))
    version = track.version or "V4_5"
    start, end = round(float(values["infillStartS"]), 2), round(float(values["infillEndS"]), 2)
    length = track.audio.duration
    if end <= start:
        raise ValidationFailed("infillEndS", "must be after infillStartS")
    if end > length:
        raise ValidationFailed("infillEndS", f"must be within the track ({length:.2f} s)")
    span = end - start
    if not SECTION_MIN_S <= span <= SECTION_MAX_S:
        raise ValidationFailed(
            "infillEndS", f"the section must last 6 to 60 seconds (it lasts {span:.2f} s)"
        )
    if span > length / 2:
        raise ValidationFailed(
            "infillEndS", f"the section may be at most half the track ({length / 2:.2f} s)"
        )
    rules.limit("tags", values.get("tags"), rules.style_max(version))
    rules.limit("title", values.get("title"), rules.TITLE_MAX)
    callback = callback_url(service, values.get("callBackUrl"), required=False)
    return await _music(
        service,
        key,
        endpoint="replace_section",
        operation=C.REPLACE_SECTION,
        version=version,
        submitted=data,
        prompt=str(values["prompt"]),
        duration_s=round(length, 3),
        extras={
            **_style(values, version, style_field="tags"),
            "infill_start": start,
            "infill_end": end,
            "full_lyrics": str(values.get("fullLyrics") or ""),
        },
        track=track,
        callback=callback,
    )


async def mashup(service: TaskService, key: ApiKey, data: dict[str, Any]) -> str:
    values = _check(service, "/generate/mashup", data)
    version = str(values["model"])
    custom, instrumental = bool(values["customMode"]), bool(values.get("instrumental"))
    urls = list(values["uploadUrlList"])
    uploads = [
        ("uploadUrlList", i, upload_source(service, f"uploadUrlList[{i}]", url))
        for i, url in enumerate(urls)
    ]
    prompt = str(values.get("prompt") or "")
    rules.custom_fields(
        custom=custom,
        instrumental=instrumental,
        prompt=prompt,
        style=values.get("style"),
        title=values.get("title"),
        version=version,
    )
    callback = callback_url(service, values.get("callBackUrl"), required=True)
    return await _music(
        service,
        key,
        endpoint="mashup",
        operation=C.MASHUP_MUSIC,
        version=version,
        submitted=data,
        prompt="" if instrumental else prompt,
        duration_s=0.0,
        extras={
            **_style(values, version),
            "custom": custom,
            "instrumental": instrumental,
            "max_source_s": rules.MAX_TRACK_S,
        },
        uploads=uploads,
        callback=callback,
    )


def sound_seconds(tempo: int | None) -> float:
    bpm = tempo or 120
    return round(min(30.0, max(2.0, SOUND_BEATS * 60.0 / bpm)), 3)


async def sounds(service: TaskService, key: ApiKey, data: dict[str, Any]) -> str:
    values = _check(service, "/generate/sounds", data)
    version = str(values["model"])
    prompt = str(values["prompt"])
    rules.limit("prompt", prompt, rules.IDEA_MAX)
    callback = callback_url(service, values.get("callBackUrl"), required=False)
    tempo = int(values["soundTempo"]) if values.get("soundTempo") is not None else None
    sound = {
        "loop": bool(values.get("soundLoop")),
        "tempo": tempo,
        "key": str(values.get("soundKey") or "Any"),
        "grab_lyrics": bool(values.get("grabLyrics")),
    }
    return await _music(
        service,
        key,
        endpoint="sounds",
        operation=C.TEXT_TO_MUSIC,
        version=version,
        submitted=data,
        prompt=prompt,
        duration_s=sound_seconds(tempo),
        extras={
            **_style(values, version),
            "style": prompt,
            "custom": False,
            "instrumental": True,
            "sound": sound,
        },
        callback=callback,
    )
