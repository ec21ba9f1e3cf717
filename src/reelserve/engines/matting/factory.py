"""Registry factory of the `rembg` engine: cheap, rembg-free, with a start-up check."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reelserve.engines.base import Engine
from reelserve.engines.matting.config import RembgConfig, rembg_config
from reelserve.engines.matting.weights import check_rembg

if TYPE_CHECKING:
    from reelserve.engines.registry import EngineFactory
    from reelserve.settings import Settings


class RembgFactory:
    """Makes the `rembg` engine; `preflight` checks the packages, the ONNX file and the device."""

    def __init__(self, config: RembgConfig) -> None:
        self.config = config

    def preflight(self) -> None:
        check_rembg(self.config)

    def __call__(self) -> Engine:
        from reelserve.engines.matting.engine import RembgEngine

        self.preflight()
        return RembgEngine(self.config)


def matting_factories(settings: Settings | None) -> dict[str, EngineFactory]:
    if settings is None:
        from reelserve.settings import Settings

        settings = Settings()
    return {"rembg": RembgFactory(rembg_config(settings))}
