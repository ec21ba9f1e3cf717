"""`upstream:<name>`: an engine that forwards tasks to a KIE-compatible API.

It is registered like any engine (so routes, `REELSERVE_ENGINES` and
`reelserve engines check` know it), declares every operation, and is never
`run()` by the worker's local path: the worker sees `UpstreamEngine` and hands
the task to `upstream/follow.py`, which sends the family's request as the
client sent it and follows the upstream task to its end.
"""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import ip_address
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlsplit

from reelserve.engines.base import (
    Capability,
    Engine,
    EngineError,
    EngineRequest,
    Output,
    ProgressFn,
)
from reelserve.upstream.client import UpstreamClient
from reelserve.upstream.config import UpstreamConfig

if TYPE_CHECKING:
    from reelserve.settings import Settings


class UpstreamEngine(Engine):
    name: ClassVar[str] = "upstream"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(Capability)
    description: ClassVar[str] = "Forwards tasks to a KIE-compatible API (docs/upstream.md)."

    def __init__(self, config: UpstreamConfig, public_url: str, allow_private: bool) -> None:
        self.config = config
        self.client = UpstreamClient(config, allow_private=allow_private)
        reachable = is_public(public_url)
        self.callbacks = reachable if config.callbacks is None else config.callbacks
        self.share_urls = reachable if config.share_urls is None else config.share_urls

    @property
    def engine(self) -> str:
        return self.config.engine

    def run(self, request: EngineRequest, progress: ProgressFn) -> Output:
        raise EngineError(f"{self.engine} forwards tasks; it has nothing to run here")


def is_public(url: str) -> bool:
    """Whether an upstream on the internet could reach `url` (not loopback, private, local)."""
    host = (urlsplit(url).hostname or "").strip("[]").lower()
    if not host or host == "localhost" or host.endswith((".local", ".localhost", ".internal")):
        return False
    try:
        address = ip_address(host)
    except ValueError:
        return "." in host
    return not (address.is_private or address.is_loopback or address.is_link_local)


def upstream_factories(settings: Settings | None) -> dict[str, Callable[[], Engine]]:
    """One factory per configured upstream, named `upstream:<name>`."""
    if settings is None:
        return {}
    out: dict[str, Callable[[], Engine]] = {}
    for config in settings.upstreams.values():
        out[config.engine] = _factory(config, settings.public_url, settings.allow_private_urls)
    return out


def _factory(config: UpstreamConfig, public_url: str, allow_private: bool) -> Callable[[], Engine]:
    def make() -> Engine:
        return UpstreamEngine(config, public_url, allow_private)

    return make
