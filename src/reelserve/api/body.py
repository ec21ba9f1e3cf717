"""Lenient JSON bodies: any content type, extra fields ignored, '' and null read as absent.

Bodies are bounded (`REELSERVE_MAX_JSON_BYTES`): a declared Content-Length
over the limit is refused before a byte is read, and a body without one is
counted as it arrives and refused once it passes the limit (413). Nothing
over the limit is held in memory; the server discards the rest unread.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from fastapi import Request
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from reelserve.errors import BodyTooLarge, ReelserveError, ValidationFailed
from reelserve.upstream.capture import note_request

M = TypeVar("M", bound=BaseModel)

_TYPE_PROBLEMS = {
    "missing": "is required",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be a whole number",
    "bool_type": "must be a boolean",
    "bool_parsing": "must be a boolean",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "dict_type": "must be an object",
}


class LenientBody(BaseModel):
    """Base of every request body: real clients send legacy fields and '' for 'not set'."""

    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _absent_values(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out: dict[str, Any] = {}
        for name, value in data.items():
            field = cls.model_fields.get(name)
            if field is not None and value is None:
                continue
            if field is not None and value == "" and not field.is_required():
                continue
            out[name] = value
        return out


def numeric_string(value: Any) -> Any:
    """'5' and '5.0' become 5; booleans are refused (they are ints in Python)."""
    if isinstance(value, bool):
        raise ValueError("must be a number")
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            return value
        return int(number) if number.is_integer() else number
    return value


def too_large(limit: int) -> BodyTooLarge:
    return BodyTooLarge(
        f"The request body is larger than the limit of {limit} bytes (REELSERVE_MAX_JSON_BYTES)"
    )


async def read_body(
    request: Request, limit: int, refusal: Callable[[], ReelserveError] | None = None
) -> bytes:
    """The body, or `refusal()` (413 by default) as soon as it is known to pass `limit` bytes."""
    cached: bytes | None = getattr(request, "_body", None)
    if cached is not None:
        return cached
    refuse = refusal or (lambda: too_large(limit))
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise refuse()
    chunks = bytearray()
    async for chunk in request.stream():
        if len(chunks) + len(chunk) > limit:
            raise refuse()
        chunks += chunk
    body = bytes(chunks)
    # Starlette returns this copy from request.body() from now on.
    request._body = body
    return body


async def parse_body(request: Request, model: type[M]) -> M:
    return validate_fields(model, await json_object(request))


async def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object (empty: `{}`); anything else is a 422 naming `body`."""
    raw = await read_body(request, request.app.state.settings.json_body_limit)
    if not raw.strip():
        data: Any = {}
    else:
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            # orjson is strict (lone surrogates, NaN, huge integers, deep nesting);
            # the standard parser decides those, so what it accepts still gets
            # the field-naming checks below.
            data = _stdlib_json(raw)
            if isinstance(data, dict):
                finite_numbers(data)
    if not isinstance(data, dict):
        raise ValidationFailed("body", "must be a JSON object")
    # Lone surrogates can only arrive as \uXXXX escapes (raw bytes were decoded
    # as UTF-8 already), so bodies without a backslash-u need no further check.
    if b"\\u" in raw:
        for name, value in data.items():
            _check_unicode(str(name), value)
    note_request(request.url.path, data, idempotency_key(request))
    return data


IDEMPOTENCY_HEADER = "idempotency-key"


def idempotency_key(request: Request) -> str | None:
    """The `Idempotency-Key` header: 1..255 printable ASCII characters, else a 422."""
    value = request.headers.get(IDEMPOTENCY_HEADER)
    if value is None:
        return None
    key = value.strip()
    if not key or len(key) > 255 or not key.isascii() or not key.isprintable():
        raise ValidationFailed(
            "Idempotency-Key", "must be 1..255 printable ASCII characters (e.g. a UUID)"
        )
    return key


def validate_fields(model: type[M], data: dict[str, Any], prefix: str = "") -> M:
    """`model` validated from `data`; the first problem becomes a 422 naming `prefix` + field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problem = _first_problem(exc)
        if not prefix:
            raise problem from None
        raise ValidationFailed(prefix + problem.field, problem_text(problem)) from None


def problem_text(error: ValidationFailed) -> str:
    """What is wrong, without the leading field name."""
    return error.message.removeprefix(f"{error.field}: ") if error.field else error.message


def finite_numbers(data: dict[str, Any]) -> None:
    """NaN and Infinity are not JSON (only the lenient parser lets them through); bodies are
    stored as sent and read back as JSON, so they are refused, naming the top-level field."""
    for name, value in data.items():
        _finite(str(name), value)


def _finite(field: str, value: Any) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValidationFailed(field, "must be a finite number (NaN and Infinity are not JSON)")
    if isinstance(value, dict):
        for item in value.values():
            _finite(field, item)
    elif isinstance(value, list):
        for item in value:
            _finite(field, item)


def _stdlib_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        # ValueError covers bad JSON, bad UTF-8 and over-long integer literals.
        raise ValidationFailed("body", "must be a JSON object") from None


def _check_unicode(field: str, value: Any) -> None:
    """JSON escapes can smuggle lone surrogates, which nothing downstream can encode."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationFailed(field, "must be valid Unicode text") from None
    except (ValueError, RecursionError):
        raise ValidationFailed(field, "is nested too deeply") from None


def _first_problem(exc: ValidationError) -> ValidationFailed:
    error = exc.errors(include_url=False)[0]
    field = ".".join(str(p) for p in error.get("loc", ()))
    problem = _TYPE_PROBLEMS.get(error["type"])
    if problem is None:
        problem = str(error["msg"]).removeprefix("Value error, ")
    return ValidationFailed(field, problem)


def openapi_body(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` that documents a body parsed by `parse_body`."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }
