"""Registry factories of the image engines (z-image, flux-kontext): torch-free, with preflight."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reelserve.engines.base import Capability, Engine
from reelserve.engines.diffusers.config import DiffusersConfig
from reelserve.engines.diffusers.factory import refuse_unsupported
from reelserve.engines.diffusers.weights import check_weights

if TYPE_CHECKING:
    from reelserve.engines.registry import EngineFactory
    from reelserve.settings import Settings


def _operations(settings: Settings, engine: str) -> tuple[str, ...]:
    """The operations the routes give `engine` by name (REELSERVE_ENGINES or an operation route)."""
    names = {op.value for op in Capability}
    ops = [op.value for op, name in settings.engines.items() if name == engine]
    ops += [r.pattern for r in settings.routes if r.pattern in names and engine in r.engines]
    return tuple(dict.fromkeys(ops))


def _config(settings: Settings, engine: str, setting: str, prefix: str) -> DiffusersConfig:
    return DiffusersConfig(
        engine=engine,
        model_dir=getattr(settings, f"{prefix}_model_dir"),
        setting=setting,
        width=getattr(settings, f"{prefix}_width"),
        height=getattr(settings, f"{prefix}_height"),
        num_frames=1,
        fps=1,
        steps=getattr(settings, f"{prefix}_steps"),
        guidance=getattr(settings, f"{prefix}_guidance"),
        negative_prompt="",
        device=settings.diffusers_device,
        dtype=settings.diffusers_dtype,
        compile=settings.diffusers_compile,
        vae_tiling=settings.diffusers_vae_tiling,
        offload=settings.diffusers_offload,
        operations=_operations(settings, engine),
    )


def zimage_config(settings: Settings) -> DiffusersConfig:
    return _config(settings, "z-image", "REELSERVE_ZIMAGE_MODEL_DIR", "zimage")


def flux_kontext_config(settings: Settings) -> DiffusersConfig:
    return _config(settings, "flux-kontext", "REELSERVE_FLUX_KONTEXT_MODEL_DIR", "flux_kontext")


class ZImageFactory:
    """Makes the `z-image` engine; `preflight` checks its weights directory."""

    def __init__(self, config: DiffusersConfig) -> None:
        self.config = config

    def preflight(self) -> None:
        from reelserve.engines.diffusers.zimage import REQUIRED, ZImageEngine

        check_weights(self.config.model_dir, self.config.engine, self.config.setting, REQUIRED)
        refuse_unsupported(self.config, ZImageEngine.capabilities)

    def __call__(self) -> Engine:
        from reelserve.engines.diffusers.zimage import ZImageEngine

        self.preflight()
        return ZImageEngine(self.config)


class FluxKontextFactory(ZImageFactory):
    """Makes the `flux-kontext` engine; `preflight` checks its weights directory."""

    def preflight(self) -> None:
        from reelserve.engines.diffusers.kontext import REQUIRED, FluxKontextEngine

        check_weights(self.config.model_dir, self.config.engine, self.config.setting, REQUIRED)
        refuse_unsupported(self.config, FluxKontextEngine.capabilities)

    def __call__(self) -> Engine:
        from reelserve.engines.diffusers.kontext import FluxKontextEngine

        self.preflight()
        return FluxKontextEngine(self.config)


def image_factories(settings: Settings | None) -> dict[str, EngineFactory]:
    if settings is None:
        from reelserve.settings import Settings

        settings = Settings()
    return {
        "z-image": ZImageFactory(zimage_config(settings)),
        "flux-kontext": FluxKontextFactory(flux_kontext_config(settings)),
    }
