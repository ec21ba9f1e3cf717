"""Engine registry: names to engine classes, instantiated and set up once, on first use."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from reelserve.engines.base import Capability, Engine
from reelserve.engines.synthetic import SyntheticEngine

if TYPE_CHECKING:
    from reelserve.settings import Settings

EngineFactory = Callable[[], Engine]
"""Makes an engine; may carry a `preflight()` method that raises `EngineUnavailable` at start-up."""


class EngineUnavailable(ValueError):
    """A configured engine cannot run here (unknown name, missing weights); a start-up error."""


class UnknownEngine(EngineUnavailable):
    pass


class EngineRegistry:
    """Knows the available engines; `get` returns a ready (set up) instance."""

    def __init__(
        self, factories: dict[str, EngineFactory] | None = None, settings: Settings | None = None
    ) -> None:
        self._factories: dict[str, EngineFactory] = dict(factories or default_factories(settings))
        self._instances: dict[str, Engine] = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        return sorted(self._factories)

    def register(self, name: str, factory: EngineFactory) -> None:
        self._factories[name] = factory

    def check(self, name: str) -> None:
        if name not in self._factories:
            hint = ""
            if name.startswith("upstream:"):
                env = name.removeprefix("upstream:").upper().replace("-", "_")
                hint = f"; configure it with REELSERVE_UPSTREAM_{env}_URL (docs/upstream.md)"
            raise UnknownEngine(
                f"unknown engine {name!r} (available: {', '.join(self.names())}){hint}"
            )
        preflight = getattr(self._factories[name], "preflight", None)
        if callable(preflight):
            preflight()

    def get(self, name: str) -> Engine:
        self.check(name)
        with self._lock:
            engine = self._instances.get(name)
            if engine is None:
                engine = self._factories[name]()
                engine.setup()
                self._instances[name] = engine
            return engine

    def supports(self, name: str, operation: Capability) -> bool:
        return operation in self.get(name).capabilities

    def loaded(self, name: str) -> Engine | None:
        """The engine's instance if it was set up already (no loading)."""
        with self._lock:
            return self._instances.get(name)

    def close(self) -> None:
        """Stop engines that hold resources (child processes); called at shutdown."""
        with self._lock:
            engines = list(self._instances.values())
            self._instances.clear()
        for engine in engines:
            close = getattr(engine, "close", None)
            if callable(close):
                close()


def default_factories(settings: Settings | None = None) -> dict[str, EngineFactory]:
    """The built-ins: `synthetic`, and the diffusers engines configured by `settings`."""
    from reelserve.engines.diffusers.factory import diffusers_factories
    from reelserve.engines.diffusers.image_factory import image_factories
    from reelserve.engines.matting.factory import matting_factories
    from reelserve.engines.music.factory import music_factories
    from reelserve.engines.text.factory import text_factories
    from reelserve.engines.upscale.factory import upscale_factories
    from reelserve.upstream.engine import upstream_factories

    return {
        SyntheticEngine.name: SyntheticEngine,
        **diffusers_factories(settings),
        **image_factories(settings),
        **music_factories(settings),
        **text_factories(settings),
        **upscale_factories(settings),
        **matting_factories(settings),
        **upstream_factories(settings),
    }


def load_plugin(target: str) -> EngineFactory:
    """`package.module:attribute` -> the engine factory it names."""
    module_name, _, attribute = target.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise UnknownEngine(f"cannot load engine plugin {target!r}: {exc}") from exc
    if not callable(factory):
        raise UnknownEngine(f"engine plugin {target!r} is not callable")
    return cast(EngineFactory, factory)


def registry_for(plugins: dict[str, str], settings: Settings | None = None) -> EngineRegistry:
    """The built-in engines plus the configured plugins (`REELSERVE_ENGINE_PLUGINS`)."""
    registry = EngineRegistry(settings=settings)
    for name, target in plugins.items():
        registry.register(name, load_plugin(target))
    return registry
