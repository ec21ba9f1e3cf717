"""The HTTP server `reelserve serve` runs: uvicorn, with slow clients closed.

uvicorn closes idle keep-alive connections (`timeout_keep_alive`) but waits
for a request's headers forever, and its httptools parser bounds neither
their time nor their size. `guarded_protocol` adds both: a connection that
has not sent complete headers within `REELSERVE_HTTP_HEADER_TIMEOUT_S` (from
its first byte, or from its start) is closed, and so is one whose headers pass
`REELSERVE_HTTP_MAX_HEADER_BYTES`. Request bodies are bounded by the routes
(api/body.py, uploads/receive.py).

Example::

    uvicorn.Server(server_config(create_app(settings), settings, "127.0.0.1", 8000)).run()
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from reelserve.observability.logs import uvicorn_log_config
from reelserve.settings import Settings

log = logging.getLogger("reelserve.http")

GRACEFUL_SHUTDOWN_S = 10
"""On SIGTERM, requests in flight get this long to finish."""


def _base_protocol() -> type[asyncio.Protocol]:
    # The one uvicorn's "auto" picks: httptools when installed, else h11.
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        return HttpToolsProtocol
    except ImportError:  # pragma: no cover - httptools is a dependency of uvicorn[standard]
        from uvicorn.protocols.http.h11_impl import H11Protocol

        return H11Protocol


def guarded_protocol(header_timeout_s: float, max_header_bytes: int) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol, closing connections whose headers are late or too large."""
    base: Any = _base_protocol()

    class Guarded(base):  # type: ignore[misc]
        """Waiting for headers means: no request yet, or the last one answered (both
        protocols keep the current request in `cycle`)."""

        _deadline: asyncio.TimerHandle | None = None
        _armed_for: Any = None
        _header_bytes = 0

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            waiting_before = self._waiting()
            super().data_received(data)
            if not self._waiting():
                self._disarm()
                return
            self._header_bytes += len(data) if waiting_before else 0
            if self._header_bytes > max_header_bytes:
                log.info("closing a connection: request headers over %d bytes", max_header_bytes)
                self._close()
            elif self._deadline is None:
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _waiting(self) -> bool:
            cycle: Any = self.cycle
            return cycle is self._armed_for and (cycle is None or cycle.response_complete)

        def _arm(self) -> None:
            self._armed_for = self.cycle
            self._deadline = self.loop.call_later(header_timeout_s, self._late)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None
            self._armed_for = self.cycle
            self._header_bytes = 0

        def _late(self) -> None:
            self._deadline = None
            if self._waiting() and not self.transport.is_closing():
                self._close()

        def _close(self) -> None:
            self._disarm()
            if not self.transport.is_closing():
                self.transport.close()

    return Guarded


def server_config(app: Any, settings: Settings, host: str, port: int) -> uvicorn.Config:
    """The uvicorn configuration of `serve`: timeouts for slow and idle clients."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="info",
        access_log=False,
        http=guarded_protocol(settings.http_header_timeout_s, settings.http_max_header_bytes),
        timeout_keep_alive=settings.http_keep_alive_s,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        h11_max_incomplete_event_size=settings.http_max_header_bytes,
        log_config=uvicorn_log_config(settings.log_format) or LOGGING_CONFIG,
    )
