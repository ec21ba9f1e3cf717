"""The KIE envelope `{code, msg, message, data}` and the one place errors become answers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from reelserve.errors import DependencyUnavailable, ReelserveError, ValidationFailed
from reelserve.outages import Outage

log = logging.getLogger("reelserve.api")

_HTTP_MESSAGES = {
    404: "Not found",
    405: "Method not allowed",
}


class FastJSONResponse(JSONResponse):
    """JSONResponse rendered with orjson (several times faster on every answer)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def envelope(code: int, msg: str, data: Any = None) -> dict[str, Any]:
    return {"code": code, "msg": msg, "message": msg, "data": data}


def answer(
    request: Request,
    code: int,
    msg: str,
    data: Any = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """An envelope with HTTP 200 (KIE's way) or HTTP status = code (`http_status = rest`)."""
    rest = request.app.state.settings.http_status == "rest"
    return FastJSONResponse(
        envelope(code, msg, data), status_code=code if rest else 200, headers=headers
    )


def ok(request: Request, data: Any, msg: str = "success") -> JSONResponse:
    return answer(request, 200, msg, data)


Renderer = Callable[[Exception], JSONResponse]


def install_error_handlers(app: FastAPI, dialects: Mapping[str, Renderer] | None = None) -> None:
    """Errors become KIE envelopes, except on paths under a prefix of `dialects`, whose
    renderer answers in that API's own words (Runway's `/v1/`)."""
    prefixes = tuple((dialects or {}).items())

    def other_dialect(request: Request) -> Renderer | None:
        path = request.url.path
        for prefix, renderer in prefixes:
            if path.startswith(prefix):
                return renderer
        return None

    @app.exception_handler(ReelserveError)
    async def _domain(request: Request, exc: ReelserveError) -> JSONResponse:
        if isinstance(exc, DependencyUnavailable):
            _count_refusal(request, exc)
        if (render := other_dialect(request)) is not None:
            return render(exc)
        return answer(request, exc.code, exc.message, None, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Only query/path parameters reach here: bodies are parsed by api.body.
        errors = exc.errors()
        field = str(errors[0]["loc"][-1]) if errors and errors[0].get("loc") else ""
        problem = "is required" if errors and errors[0].get("type") == "missing" else "is invalid"
        err = ValidationFailed(field, problem)
        if (render := other_dialect(request)) is not None:
            return render(err)
        return answer(request, err.code, err.message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if (render := other_dialect(request)) is not None:
            return render(exc)
        msg = _HTTP_MESSAGES.get(exc.status_code, str(exc.detail))
        return answer(request, exc.status_code, msg, None, dict(exc.headers or {}))

    # Exception is handled by Starlette's outermost middleware, which logs a second
    # traceback after answering; the errors above never get that far.
    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        if (render := other_dialect(request)) is not None:
            return render(exc)
        return answer(request, 500, "Internal error, please try again later")


def _count_refusal(request: Request, exc: DependencyUnavailable) -> None:
    """A 503 for an outage: counted for the outage's closing log line, never logged alone
    (the store or blob store logged the outage when it began)."""
    outages: dict[type[Exception], Outage] = getattr(request.app.state, "outages", {})
    for kind, outage in outages.items():
        if isinstance(exc, kind):
            outage.refused()
            return
