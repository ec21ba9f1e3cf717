"""Registry factories of the diffusers engines: cheap, torch-free, with a start-up check."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reelserve.engines.base import Capability, Engine
from reelserve.engines.diffusers.config import DiffusersConfig, ltx_config, wan_config
from reelserve.engines.diffusers.weights import check_weights
from reelserve.engines.registry import EngineUnavailable

if TYPE_CHECKING:
    from reelserve.engines.diffusers.wan import WanEngine
    from reelserve.engines.registry import EngineFactory
    from reelserve.settings import Settings


class LtxFactory:
    """Makes the `ltx-video` engine; `preflight` checks its weights directory."""

    def __init__(self, config: DiffusersConfig) -> None:
        self.config = config

    def preflight(self) -> None:
        from reelserve.engines.diffusers.ltx import REQUIRED, LtxEngine

        check_weights(self.config.model_dir, self.config.engine, self.config.setting, REQUIRED)
        refuse_unsupported(self.config, LtxEngine.capabilities)

    def __call__(self) -> Engine:
        from reelserve.engines.diffusers.ltx import LtxEngine

        self.preflight()
        return LtxEngine(self.config)


class WanFactory(LtxFactory):
    """Makes the `wan` engine; image_to_video only for TI2V checkpoints (see wan.py)."""

    def preflight(self) -> None:
        self._engine_class()

    def _engine_class(self) -> type[WanEngine]:
        from reelserve.engines.diffusers.wan import REQUIRED, wan_engine_class

        index = check_weights(
            self.config.model_dir, self.config.engine, self.config.setting, REQUIRED
        )
        return wan_engine_class(self.config, index)

    def __call__(self) -> Engine:
        return self._engine_class()(self.config)


def refuse_unsupported(config: DiffusersConfig, capabilities: frozenset[Capability]) -> None:
    """A start-up error when REELSERVE_ENGINES gives the engine an operation it cannot do."""
    unsupported = [op for op in config.operations if Capability(op) not in capabilities]
    if unsupported:
        does = ", ".join(sorted(c.value for c in capabilities))
        raise EngineUnavailable(
            f"REELSERVE_ENGINES gives {config.engine!r} {', '.join(unsupported)}, which it "
            f"cannot do (it does {does})"
        )


def diffusers_factories(settings: Settings | None) -> dict[str, EngineFactory]:
    if settings is None:
        from reelserve.settings import Settings

        settings = Settings()
    return {"ltx-video": LtxFactory(ltx_config(settings)), "wan": WanFactory(wan_config(settings))}
