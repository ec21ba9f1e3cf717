"""HTTP request metrics: counted by the route's template (`/api/v1/jobs/recordInfo`, a path
parameter left as `{name}`), never the raw path, so label values stay bounded; a request no
route matched counts as `unmatched`."""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reelserve.observability import metrics

UNMATCHED = "unmatched"


class RequestMetrics:
    """ASGI middleware: `reelserve_http_requests_total` and the duration histogram."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            metrics.http_request(
                route_of(scope), scope.get("method", ""), status, time.perf_counter() - started
            )


def route_of(scope: Scope) -> str:
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED
