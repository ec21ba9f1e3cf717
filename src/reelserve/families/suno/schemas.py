"""The Suno request bodies, checked against KIE's own schemas (`endpoints.json`).

`endpoints.json` is generated from `kie-openapi.json` by
`scripts/gen_suno_schemas.py` (a test regenerates it and compares bytes). The
generic checks are the market's (`catalogue.validate.check_object`): required
fields, types (numbers may come as numeric strings, booleans as "true"),
enums (case-insensitive, answered in the docs' spelling), ranges, lengths,
item counts; `null` and "" mean absent and absent fields get their default.
A failure is a 422 naming the field as the client wrote it (`styleWeight`).

Additions to the docs' schemas (Decisions, kept here):
- `V3_5` is accepted wherever the docs list the full version enum (clients
  still send it; notes §4.2).
- `prompt` is not required by the schema of generate and upload-cover (the
  docs' newest export lists it; older ones and clients leave it out of custom
  instrumentals): `rules.custom_fields` requires it where it is used — as the
  idea (customMode false) or the lyrics (custom mode with vocals).
- `generate-persona` has no schema in the docs: `taskId`, `audioId`, `name`,
  `description`, all required (notes §4.9).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from reelserve.api.body import finite_numbers
from reelserve.catalogue.validate import DEFAULT_SOURCE_MAX_BYTES, check_object
from reelserve.errors import ValidationFailed
from reelserve.families.suno.rules import VERSIONS

PERSONA = "/api/v1/generate/generate-persona"
_PERSONA_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["audioId", "description", "name", "taskId"],
    "properties": {
        "taskId": {"type": "string"},
        "audioId": {"type": "string"},
        "name": {"type": "string", "maxLength": 100},
        "description": {"type": "string", "maxLength": 1000},
    },
}
_PREFIX = "body"


@cache
def schemas() -> dict[str, dict[str, Any]]:
    """Each endpoint's request schema by path (`/api/v1/generate`, ...)."""
    text = resources.files("reelserve.families.suno").joinpath("endpoints.json").read_text()
    raw: dict[str, Any] = json.loads(text)
    out = {path: _adjusted(path, entry["schema"]) for path, entry in raw.items()}
    out[PERSONA] = _PERSONA_SCHEMA
    return out


_PROMPT_BY_MODE = ("/api/v1/generate", "/api/v1/generate/upload-cover")


def _adjusted(path: str, schema: dict[str, Any]) -> dict[str, Any]:
    if path in _PROMPT_BY_MODE:
        schema["required"] = [f for f in schema.get("required") or () if f != "prompt"]
    model = (schema.get("properties") or {}).get("model")
    if model and "V4" in (model.get("enum") or ()) and "V3_5" not in model["enum"]:
        model["enum"] = [v for v in VERSIONS if v in model["enum"] or v == "V3_5"]
    return schema


def check(path: str, data: dict[str, Any], source_max_bytes: int = 0) -> dict[str, Any]:
    """`data` checked against the schema of `path`; the normalized values."""
    finite_numbers(data)
    try:
        return check_object(
            schemas()[path], data, _PREFIX, source_max_bytes or DEFAULT_SOURCE_MAX_BYTES
        )
    except ValidationFailed as exc:
        field = exc.field.removeprefix(_PREFIX + ".")
        problem = exc.message.removeprefix(f"{exc.field}: ")
        raise ValidationFailed(field, problem) from None
