"""The Suno family's 25 routes (kie-families.md §6, notes §4 and §6), all under `/api/v1`.

Songs (`generate`, `generate/extend`, `upload-cover`, `upload-extend`,
`add-instrumental`, `add-vocals`, `replace-section`, `mashup`, `sounds`) are
polled on `generate/record-info`; lyrics, WAV, stems (`vocal-removal`), MIDI,
music video (`mp4`) and cover art (`suno/cover`) each have their own
record-info; timestamped lyrics, personas and style boost answer at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from reelserve.api.body import json_object
from reelserve.api.deps import current_key, task_service
from reelserve.api.envelope import answer, ok
from reelserve.blobs.links import MediaLinks
from reelserve.families.common import record_task_id
from reelserve.families.suno import derived, submit, sync
from reelserve.families.suno import derived_views as dv
from reelserve.families.suno.schemas import schemas
from reelserve.families.suno.views import music_record
from reelserve.store.keys import ApiKey
from reelserve.tasks.models import Dialect, Task
from reelserve.tasks.service import TaskService

router = APIRouter(prefix="/api/v1", tags=["suno"])

Submit = Callable[[TaskService, ApiKey, dict[str, Any]], Awaitable[str]]
TASK_ID_QUERY = {
    "parameters": [
        {"name": "taskId", "in": "query", "required": True, "schema": {"type": "string"}}
    ]
}


def _body_doc(path: str) -> dict[str, Any]:
    schema = schemas()["/api/v1" + path]
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _task_route(path: str, build: Submit, summary: str) -> None:
    async def create(request: Request) -> JSONResponse:
        key = await current_key(request)
        data = await json_object(request)
        try:
            task_id = await build(task_service(request), key, data)
        except derived.Existing as exists:
            return answer(request, exists.code, exists.msg, {"taskId": exists.task_id})
        return ok(request, {"taskId": task_id})

    create.__doc__ = summary
    router.add_api_route(
        path,
        create,
        methods=["POST"],
        name=path.strip("/").replace("/", "_").replace("-", "_"),
        openapi_extra=_body_doc(path),
        summary=summary.split(":")[0],
    )


def _record_route(
    path: str, dialects: tuple[Dialect, ...], view: Callable[[Task, MediaLinks], dict[str, Any]]
) -> None:
    async def record(request: Request) -> JSONResponse:
        key = await current_key(request)
        task_id = record_task_id(request.query_params.get("taskId"))
        task = await task_service(request).get(key, task_id, dialects)
        return ok(request, view(task, request.app.state.links))

    record.__doc__ = f"A task of {path.rsplit('/', 2)[-2]}: its status and results."
    router.add_api_route(
        path,
        record,
        methods=["GET"],
        name=path.strip("/").replace("/", "_").replace("-", "_"),
        openapi_extra=TASK_ID_QUERY,
    )


SONGS: list[tuple[str, Submit, str]] = [
    ("/generate", submit.generate, "Two songs from a prompt, or lyrics in custom mode"),
    ("/generate/extend", submit.extend, "A song continued from continueAt"),
    ("/generate/upload-cover", submit.upload_cover, "An uploaded track restyled"),
    ("/generate/upload-extend", submit.upload_extend, "An uploaded track continued"),
    ("/generate/add-instrumental", submit.add_instrumental, "An accompaniment under a vocal"),
    ("/generate/add-vocals", submit.add_vocals, "A voice singing over an instrumental"),
    ("/generate/replace-section", submit.replace_section, "A span of a song made again"),
    ("/generate/mashup", submit.mashup, "Two uploaded tracks blended"),
    ("/generate/sounds", submit.sounds, "A sound or loop in a key and tempo"),
    ("/lyrics", derived.lyrics, "Two lyric sheets from a prompt"),
    ("/wav/generate", derived.wav, "A track as WAV (16-bit PCM)"),
    ("/vocal-removal/generate", derived.stems, "A track's stems (separate_vocal or split_stem)"),
    ("/midi/generate", derived.midi, "The notes of a stems task's stems"),
    ("/mp4/generate", derived.music_video, "A music video of a track"),
    ("/suno/cover/generate", derived.cover, "Cover art for a song"),
]  # fmt: skip
for _path, _build, _summary in SONGS:
    _task_route(_path, _build, _summary)

RECORDS: list[tuple[str, tuple[Dialect, ...], Callable[[Task, MediaLinks], dict[str, Any]]]] = [
    ("/generate/record-info", (Dialect.SUNO,), music_record),
    ("/lyrics/record-info", (Dialect.SUNO_LYRICS,), dv.lyrics_record),
    ("/wav/record-info", (Dialect.SUNO_WAV,), dv.wav_record),
    ("/vocal-removal/record-info", (Dialect.SUNO_STEMS,), dv.stems_record),
    ("/midi/record-info", (Dialect.SUNO_MIDI,), dv.midi_record),
    ("/mp4/record-info", (Dialect.SUNO_MP4,), dv.mp4_record),
    ("/suno/cover/record-info", (Dialect.SUNO_COVER,), dv.cover_record),
]
for _path, _dialects, _view in RECORDS:
    _record_route(_path, _dialects, _view)


@router.post(
    "/generate/get-timestamped-lyrics",
    openapi_extra=_body_doc("/generate/get-timestamped-lyrics"),
)
async def timestamped_lyrics(request: Request) -> JSONResponse:
    """When each word of a finished track is sung, and its waveform (synchronous)."""
    key = await current_key(request)
    data = await sync.timestamped_lyrics(task_service(request), key, await json_object(request))
    return ok(request, data)


@router.post("/generate/generate-persona", openapi_extra=_body_doc("/generate/generate-persona"))
async def generate_persona(request: Request) -> JSONResponse:
    """A persona (voice and style) from a track, for later songs' `personaId` (synchronous)."""
    key = await current_key(request)
    try:
        data = await sync.generate_persona(task_service(request), key, await json_object(request))
    except sync.PersonaConflict as conflict:
        return answer(
            request,
            409,
            "Persona already exists for this music",
            {"personaId": conflict.persona_id},
        )
    return ok(request, data)


@router.post("/style/generate", openapi_extra=_body_doc("/style/generate"))
async def boost_style(request: Request) -> JSONResponse:
    """A fuller style line from a short one, e.g. `{"content": "Pop, Mysterious"}` (synchronous)."""
    key = await current_key(request)
    data = await sync.boost_style(task_service(request), key, await json_object(request))
    return ok(request, data)
