"""CORS that costs nothing for requests without an Origin header (servers, SDKs, curl)."""

from __future__ import annotations

from typing import Any

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send


class Cors:
    """Starlette's CORSMiddleware, entered only when the request carries an Origin."""

    def __init__(self, app: ASGIApp, /, **options: Any) -> None:
        self.app = app
        self.cors = CORSMiddleware(app, **options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not any(k == b"origin" for k, _ in scope["headers"]):
            await self.app(scope, receive, send)
        else:
            await self.cors(scope, receive, send)
