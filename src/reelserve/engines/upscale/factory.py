"""Registry factory of the `swin2sr` engine: cheap, torch-free, with a start-up check."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reelserve.engines.base import Engine
from reelserve.engines.upscale.config import Swin2SRConfig, swin2sr_config
from reelserve.engines.upscale.weights import check_swin2sr

if TYPE_CHECKING:
    from reelserve.engines.registry import EngineFactory
    from reelserve.settings import Settings


class Swin2SRFactory:
    """Makes the `swin2sr` engine; `preflight` checks transformers and the model's files."""

    def __init__(self, config: Swin2SRConfig) -> None:
        self.config = config

    def preflight(self) -> None:
        check_swin2sr(self.config)

    def __call__(self) -> Engine:
        from reelserve.engines.upscale.swin2sr import Swin2SREngine

        self.preflight()
        return Swin2SREngine(self.config)


def upscale_factories(settings: Settings | None) -> dict[str, EngineFactory]:
    if settings is None:
        from reelserve.settings import Settings

        settings = Settings()
    return {"swin2sr": Swin2SRFactory(swin2sr_config(settings))}
