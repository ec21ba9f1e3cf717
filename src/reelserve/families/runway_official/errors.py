"""Runway's error bodies (`{"error": ...}`; validation: `{"error", "issues", "docUrl"}`).

Every error on a `/v1` path is rendered here instead of in KIE's envelope
(`api/envelope.py` asks `render` for paths under `PREFIX`), with the status
Runway uses: 400 for a bad body (each problem a zod-style issue naming its
path), 401, 404 `Could not find Task`, 429/503 with `Retry-After`. The SDK
retries 408, 409, 429 and 5xx; nothing is answered so after a task exists.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from reelserve.errors import (
    RETRY_AFTER_S,
    BadRequest,
    BodyTooLarge,
    DependencyUnavailable,
    InsufficientCredits,
    Maintenance,
    NotFound,
    RateLimited,
    ReelserveError,
    Unauthorized,
    ValidationFailed,
)

PREFIX = "/v1/"
DOC_URL = "https://docs.dev.runwayml.com/api"
TASK_NOT_FOUND = "Could not find Task"
VALIDATION_FAILED = "Validation of body failed"
IDEMPOTENCY_FIELD = "Idempotency-Key"


def issue(path: str, message: str, code: str = "custom", **extra: Any) -> dict[str, Any]:
    """One zod-style issue: `path` is dotted (`promptImage.0.uri`), digits become indexes."""
    parts: list[str | int] = [int(p) if p.isdigit() else p for p in path.split(".") if p]
    return {"code": code, "path": parts, "message": message, **extra}


class BodyInvalid(BadRequest):
    """Validation of body failed"""

    def __init__(self, issues: list[dict[str, Any]]) -> None:
        super().__init__(VALIDATION_FAILED)
        self.issues = issues


class BadVersion(BadRequest):
    """The X-Runway-Version header is missing or names a version this server does not serve"""


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


def _problem(exc: ValidationFailed) -> str:
    return exc.message.removeprefix(f"{exc.field}: ") if exc.field else exc.message


def render(exc: Exception) -> JSONResponse:
    """The answer Runway would give for `exc`."""
    retry = {"Retry-After": str(RETRY_AFTER_S)}
    if isinstance(exc, BodyInvalid):
        return _json(400, {"error": VALIDATION_FAILED, "issues": exc.issues, "docUrl": DOC_URL})
    if isinstance(exc, ValidationFailed):
        if exc.field == IDEMPOTENCY_FIELD:
            return _json(422, {"error": exc.message})
        body = {
            "error": VALIDATION_FAILED,
            "issues": [issue(exc.field, _problem(exc))],
            "docUrl": DOC_URL,
        }
        return _json(400, body)
    if isinstance(exc, NotFound):
        message = TASK_NOT_FOUND if exc.message == "Task not found" else exc.message
        return _json(404, {"error": message})
    if isinstance(exc, Unauthorized):
        return _json(401, {"error": "Invalid API key; send it as Authorization: Bearer <key>"})
    if isinstance(exc, InsufficientCredits):
        return _json(400, {"error": "You do not have enough credits to run this task."})
    if isinstance(exc, RateLimited):
        return _json(429, {"error": exc.message}, {**retry, **exc.headers})
    if isinstance(exc, Maintenance | DependencyUnavailable):
        return _json(503, {"error": str(exc) or exc.message}, retry)
    if isinstance(exc, BodyTooLarge):
        return _json(413, {"error": exc.message})
    if isinstance(exc, ReelserveError):
        # An unreachable source (451) or a feature switched off (505): the request's fault.
        status = 400 if exc.code in (451, 505) else exc.code if 400 <= exc.code < 500 else 500
        return _json(status, {"error": exc.message}, exc.headers or None)
    if isinstance(exc, HTTPException):
        words = {404: "Not found", 405: "Method not allowed"}
        return _json(exc.status_code, {"error": words.get(exc.status_code, str(exc.detail))})
    return _json(500, {"error": "Internal error, please try again later"})
