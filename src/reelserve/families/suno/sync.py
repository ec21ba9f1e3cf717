"""Suno's synchronous endpoints: timestamped lyrics, personas and style boost (notes §4.8, §4.9).

- get-timestamped-lyrics: the words of a finished track with when each is
  sung (`alignedWords[] {word, success, startS, endS, palign}`), the track's
  loudness curve (`waveformData`), `hootCer` (the alignment's error rate: 0,
  the engine placed every word itself; 1 when the engine gave no timings)
  and `isStreamed` false. An instrumental has no words.
- generate-persona: keeps a track's voice and style under a `personaId` that
  generate, extend and the upload endpoints take in custom mode; one persona
  per track (KIE's 409 with the existing id), only for music made with V4 or later.
- style/generate: `content` (≤ 500 characters) expanded into a fuller style
  line by the synthetic engine's procedural style writer; no credits charged.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from reelserve.errors import ValidationFailed
from reelserve.families.suno import schemas
from reelserve.families.suno.inputs import song_track
from reelserve.families.suno.rules import other_id
from reelserve.store.keys import ApiKey
from reelserve.store.personas import Persona, PersonaExists
from reelserve.tasks.service import TaskService
from reelserve.tasks.views import unix_ms

API = "/api/v1"
STYLE_MAX = 500


class PersonaConflict(Exception):
    def __init__(self, persona_id: str) -> None:
        super().__init__(persona_id)
        self.persona_id = persona_id


async def timestamped_lyrics(
    service: TaskService, key: ApiKey, data: dict[str, Any]
) -> dict[str, Any]:
    values = schemas.check(API + "/generate/get-timestamped-lyrics", data)
    track = await song_track(service, key, values.get("audioId"), values.get("taskId"))
    info = track.info
    words = [w for w in info.get("words") or [] if isinstance(w, list | tuple) and len(w) == 3]
    return {
        "alignedWords": [
            {
                "word": str(text),
                "success": True,
                "startS": round(float(start), 2),
                "endS": round(float(end), 2),
                "palign": 0,
            }
            for text, start, end in words
        ],
        "waveformData": [float(v) for v in info.get("waveform") or []],
        "hootCer": 0.0 if words or not str(info.get("lyrics") or "").strip() else 1.0,
        "isStreamed": False,
    }


async def generate_persona(
    service: TaskService, key: ApiKey, data: dict[str, Any]
) -> dict[str, Any]:
    values = schemas.check(schemas.PERSONA, data)
    track = await song_track(service, key, values.get("audioId"), values.get("taskId"))
    if track.version == "V3_5":
        raise ValidationFailed("taskId", "personas need music made with V4 or a later model")
    existing = await service.store.personas.for_track(track.id)
    if existing is not None:
        raise PersonaConflict(existing.id)
    persona = Persona(
        id=f"persona_{secrets.token_hex(16)}",
        api_key_id=key.id,
        task_id=track.task.id,
        audio_id=track.id,
        name=str(values["name"]),
        description=str(values["description"]),
        created_at=time.time(),
    )
    try:
        await service.store.personas.create(persona)
    except PersonaExists:
        raced = await service.store.personas.for_track(track.id)
        raise PersonaConflict(raced.id if raced else "") from None
    return {"personaId": persona.id, "name": persona.name, "description": persona.description}


async def boost_style(service: TaskService, key: ApiKey, data: dict[str, Any]) -> dict[str, Any]:
    from reelserve.engines.synthetic.music.style import boost_style as expand

    values = schemas.check(API + "/style/generate", data)
    content = str(values["content"])
    if len(content) > STYLE_MAX:
        raise ValidationFailed("content", f"must be at most {STYLE_MAX} characters")
    balance = await service.store.keys.balance(key.id)
    return {
        "taskId": other_id("style"),
        "param": content,
        "result": expand(content),
        "creditsConsumed": 0,
        "creditsRemaining": balance if balance is not None else 2147483647,
        "successFlag": "1",
        "errorCode": None,
        "errorMessage": "",
        "createTime": unix_ms(time.time()),
    }
