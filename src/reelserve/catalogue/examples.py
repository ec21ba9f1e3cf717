"""A valid example input for every model: the docs' example values, completed.

The docs' values come first, each kept only if it passes the field's own
rules (some doc examples do not: `[{}]` placeholders, a string for a number);
then every required field still missing gets a made-up value that satisfies
its schema (an enum's default or first value, a number inside its range, an
https URL of the right kind for a media field). Tests use these to exercise
every model; `GET /api/v1/jobs/models` may show them.
"""

from __future__ import annotations

from typing import Any

from reelserve.catalogue import extras
from reelserve.catalogue.fields import media_kind
from reelserve.catalogue.validate import DEFAULT_SOURCE_MAX_BYTES, Media, check_value
from reelserve.errors import ValidationFailed

PROMPT = "A red fox trots through fresh snow at dawn, cinematic light"
_EXTENSIONS = {"image": "png", "video": "mp4", "audio": "mp3"}


def build_example(name: str, schema: dict[str, Any], documented: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = schema.get("properties") or {}
    example: dict[str, Any] = {}
    for field, value in documented.items():
        spec = properties.get(field)
        if spec is not None and _passes(field, spec, value):
            example[field] = value
    needed = list(schema.get("required") or ())
    needed += [group[0] for group in extras.ONE_OF.get(name, ()) if not set(group) & set(example)]
    for field in needed:
        if field not in example and field in properties:
            example[field] = made_up(field, properties[field])
    for first, second in extras.EXCLUSIVE.get(name, ()):
        if first in example and second in example:
            del example[first]
    return example


def made_up(field: str, spec: dict[str, Any]) -> Any:
    """A value that satisfies `spec` (see the module docstring)."""
    kind = spec.get("type")
    if "default" in spec:
        return spec["default"]
    if "enum" in spec:
        return spec["enum"][0]
    if kind == "string":
        media = media_kind(field, spec)
        if media is not None:
            return f"https://media.example.com/{field}.{_EXTENSIONS[media]}"
        text = PROMPT
        low, high = spec.get("minLength") or 0, spec.get("maxLength")
        text = text.ljust(low, ".")
        return text[:high] if high else text
    if kind in ("number", "integer"):
        low, high = spec.get("minimum"), spec.get("maximum")
        return low if low is not None else (min(1, high) if high is not None else 1)
    if kind == "boolean":
        return False
    if kind == "array":
        items = spec.get("items") or {}
        count = max(spec.get("minItems") or 1, 1)
        return [made_up(field, items) for _ in range(count)]
    if kind == "object":
        props = spec.get("properties") or {}
        return {f: made_up(f, props[f]) for f in spec.get("required") or () if f in props}
    return PROMPT


def _passes(field: str, spec: dict[str, Any], value: Any) -> bool:
    kind = media_kind(field, spec)
    media = Media(kind, spec, DEFAULT_SOURCE_MAX_BYTES) if kind else None
    try:
        check_value(spec, value, f"input.{field}", media, DEFAULT_SOURCE_MAX_BYTES)
    except ValidationFailed:
        return False
    return True
