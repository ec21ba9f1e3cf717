"""Generic validation of a market model's `input` against its JSON schema (spec §2).

A failure is `ValidationFailed("input.<field>", "<what is allowed>")` (code
422), the first problem found, fields checked in schema order; nested arrays of
objects name their path (`input.multi_prompt[0].duration`).

Decisions (spec §2 and kie-api.md §0), all kept here:
- **lenient types:** a number where the schema says string (`5` for
  `enum ["5","10"]`, normalized to `"5"`), a numeric string where it says
  number or integer (`"5"` → `5`), `"true"`/`"false"` for booleans. An enum
  also matches regardless of case and answers with the documented spelling
  (`"1080p"` for `["768P","1080P"]` → `"1080P"`).
- **empty values:** `null`, `""` (or only whitespace), `[]` and `{}` mean
  absent; absent optional fields get their schema default; absent required
  ones are "is required".
- **names:** a field is found by its name without surrounding spaces, so the
  docs' `reference_video_urls ` is accepted with and without the space; unknown
  fields are ignored (left out of the result).
- **sources:** a media field (catalogue.fields) holds an http(s) URL (this
  server's own upload/download URLs are such URLs) or a `data:` URI; a data:
  URI is decoded to check its MIME type against `x-accept` (else the kind's
  usual types) and its size against `x-max-mb` and the server's
  `source_max_bytes`. The result keeps the text as given; `plan` decodes it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from reelserve.catalogue import extras
from reelserve.catalogue.fields import MediaKind, media_kind, normal_mime
from reelserve.catalogue.models import Model
from reelserve.errors import ValidationFailed
from reelserve.tasks.rules import IMAGE_MIME_TYPES, DataUri, check_http_url, parse_data_uri

DEFAULT_SOURCE_MAX_BYTES = 10 * 1024 * 1024
MB = 1024 * 1024
_MISSING: Any = object()


class Media:
    """What a media field accepts: its kind, MIME types and size cap."""

    def __init__(self, kind: MediaKind, spec: dict[str, Any], source_max_bytes: int) -> None:
        self.kind = kind
        self.accept = tuple(normal_mime(m) for m in spec.get("x-accept") or ())
        mb = spec.get("x-max-mb")
        self.max_mb: float | None = float(mb) if mb is not None else None
        self.max_bytes = source_max_bytes
        if self.max_mb is not None:
            self.max_bytes = min(source_max_bytes, int(self.max_mb * MB))


def is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | dict):
        return not value
    return False


def validate(
    model: Model, data: Any, *, source_max_bytes: int = DEFAULT_SOURCE_MAX_BYTES
) -> dict[str, Any]:
    """`data` checked against `model.schema`; the normalized values (see the module docstring)."""
    if not isinstance(data, dict):
        raise ValidationFailed("input", "must be an object")
    values = check_object(model.schema, data, "input", source_max_bytes)
    _check_groups(model.name, values)
    return values


def check_object(
    schema: dict[str, Any], data: dict[str, Any], path: str, source_max_bytes: int
) -> dict[str, Any]:
    given = _by_stripped_name(data)
    required = set(schema.get("required") or ())
    out: dict[str, Any] = {}
    for name, spec in (schema.get("properties") or {}).items():
        field = f"{path}.{name}"
        value = given.get(name, _MISSING)
        if value is _MISSING or is_empty(value):
            if name in required:
                raise ValidationFailed(field, "is required")
            if "default" in spec:
                out[name] = spec["default"]
            continue
        kind = media_kind(name, spec)
        media = Media(kind, spec, source_max_bytes) if kind else None
        out[name] = check_value(spec, value, field, media, source_max_bytes)
    return out


def check_value(
    spec: dict[str, Any], value: Any, field: str, media: Media | None, source_max_bytes: int
) -> Any:
    kind = spec.get("type")
    if kind == "string":
        return _check_string(spec, value, field, media)
    if kind in ("number", "integer"):
        return _check_number(spec, value, field, whole=kind == "integer")
    if kind == "boolean":
        return _boolean(value, field)
    if kind == "array":
        if not isinstance(value, list):
            raise ValidationFailed(field, "must be an array")
        _check_count(spec, len(value), field)
        items = spec.get("items") or {}
        return [
            check_value(items, item, f"{field}[{i}]", media, source_max_bytes)
            for i, item in enumerate(value)
        ]
    if kind == "object":
        if not isinstance(value, dict):
            raise ValidationFailed(field, "must be an object")
        return check_object(spec, value, field, source_max_bytes)
    return value


def _check_string(spec: dict[str, Any], value: Any, field: str, media: Media | None) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValidationFailed(field, "must be a string")
    text = value if isinstance(value, str) else _number_text(value)
    if "enum" in spec:
        return _enum(spec["enum"], text, field)
    low, high = spec.get("minLength"), spec.get("maxLength")
    if (low is not None and len(text) < low) or (high is not None and len(text) > high):
        raise ValidationFailed(field, f"must be {_length_range(low, high)} characters")
    if spec.get("pattern") and not re.search(spec["pattern"], text):
        raise ValidationFailed(field, f"must match {spec['pattern']}")
    if media is not None:
        check_source(field, text, media)
    return text


def _check_number(spec: dict[str, Any], value: Any, field: str, *, whole: bool) -> int | float:
    what = "an integer" if whole else "a number"
    number: Any = value
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise ValidationFailed(field, f"must be {what}") from None
    if isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number):
        raise ValidationFailed(field, f"must be {what}")
    if isinstance(number, float) and number.is_integer():
        number = int(number)
    if whole and not isinstance(number, int):
        raise ValidationFailed(field, "must be a whole number")
    if "enum" in spec:
        allowed = [v for v in spec["enum"] if not isinstance(v, bool)]
        if not any(number == v for v in allowed):
            raise ValidationFailed(field, "must be one of " + _listing(allowed))
    low, high = spec.get("minimum"), spec.get("maximum")
    if (low is not None and number < low) or (high is not None and number > high):
        raise ValidationFailed(field, f"must be {_range(low, high)}")
    result: int | float = number
    return result


def _boolean(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValidationFailed(field, 'must be a boolean (true, false, "true" or "false")')


def _check_count(spec: dict[str, Any], count: int, field: str) -> None:
    low, high = spec.get("minItems"), spec.get("maxItems")
    if (low is not None and count < low) or (high is not None and count > high):
        raise ValidationFailed(field, f"must hold {_length_range(low, high)} items (got {count})")


def check_source(field: str, value: str, media: Media) -> str | DataUri:
    """An http(s) URL, or a data: URI of an accepted type within the size caps."""
    if value[:5].lower() != "data:":
        return check_http_url(field, value)
    try:
        uri = parse_data_uri(field, value, media.max_bytes)
    except ValidationFailed as exc:
        capped_by_model = media.max_mb is not None and media.max_bytes == int(media.max_mb * MB)
        if capped_by_model and "at most" in exc.message:
            raise ValidationFailed(field, f"must be at most {media.max_mb:g} MB") from None
        raise
    mime = normal_mime(uri.mime)
    if media.accept:
        if mime not in media.accept:
            raise ValidationFailed(field, "data: URI must be one of " + ", ".join(media.accept))
    elif media.kind == "image" and mime not in IMAGE_MIME_TYPES:
        raise ValidationFailed(field, "data: URI must be one of " + ", ".join(IMAGE_MIME_TYPES))
    elif media.kind != "image" and not (
        mime.startswith(media.kind + "/") or mime == "application/octet-stream"
    ):
        raise ValidationFailed(field, f"data: URI must be {media.kind} ({media.kind}/...)")
    return uri


def _check_groups(name: str, values: dict[str, Any]) -> None:
    for group in extras.ONE_OF.get(name, ()):
        if not any(f in values for f in group):
            others = " or ".join(f"input.{f}" for f in group[1:])
            raise ValidationFailed(f"input.{group[0]}", f"is required (or {others})")
    for first, second in extras.EXCLUSIVE.get(name, ()):
        if first in values and second in values:
            raise ValidationFailed(f"input.{first}", f"cannot be combined with input.{second}")
    for flag, needed in extras.REQUIRED_WHEN.get(name, ()):
        if values.get(flag) is True and needed not in values:
            raise ValidationFailed(f"input.{needed}", f"is required when {flag} is true")


def _by_stripped_name(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = str(key).strip()
        if name not in out or (key == name and not is_empty(value)):
            out[name] = value
    return out


def _enum(allowed: list[Any], text: str, field: str) -> str:
    for option in allowed:
        if str(option) == text:
            return str(option)
    folded = text.strip().casefold()
    for option in allowed:
        if str(option).casefold() == folded:
            return str(option)
    raise ValidationFailed(field, "must be one of " + _listing(allowed))


def _number_text(value: int | float) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _listing(allowed: Iterable[Any]) -> str:
    return ", ".join(f'"{v}"' if isinstance(v, str) else str(v) for v in allowed)


def _range(low: Any, high: Any) -> str:
    if low is not None and high is not None:
        return f"{low}..{high}"
    return f">= {low}" if low is not None else f"<= {high}"


def _length_range(low: Any, high: Any) -> str:
    if low is not None and high is not None:
        return f"{low}..{high}"
    return f"at least {low}" if low is not None else f"at most {high}"
