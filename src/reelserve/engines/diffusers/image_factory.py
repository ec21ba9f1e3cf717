"""Registry factories of the image engines (z-image, flux-kontext, flux, qwen-image): torch-free."""

from __future__ import annotations

import dataclasses
import importlib
from typing import TYPE_CHECKING, Any

from reelserve.engines.base import Capability, Engine
from reelserve.engines.diffusers.config import DiffusersConfig, shared_settings
from reelserve.engines.diffusers.factory import refuse_unsupported

if TYPE_CHECKING:
    from reelserve.engines.diffusers.image_runner import ImageEngine
    from reelserve.engines.registry import EngineFactory
    from reelserve.settings import Settings


@dataclasses.dataclass(frozen=True)
class ImageModel:
    """One image engine: its name, settings prefix and the module that holds its code."""

    engine: str
    prefix: str
    """`zimage` -> settings zimage_model_dir, zimage_width... (REELSERVE_ZIMAGE_*)."""
    module: str
    """Under reelserve.engines.diffusers; it has `engine_class(config)`, which checks the
    weights and picks the engine class, and may have `configure(settings, config)`."""

    @property
    def setting(self) -> str:
        return f"REELSERVE_{self.prefix.upper()}_MODEL_DIR"


MODELS = (
    ImageModel("z-image", "zimage", "zimage"),
    ImageModel("flux-kontext", "flux_kontext", "kontext"),
    ImageModel("flux", "flux", "flux"),
    ImageModel("qwen-image", "qwen_image", "qwen"),
)


def _operations(settings: Settings, engine: str) -> tuple[str, ...]:
    """The operations the routes give `engine` by name (REELSERVE_ENGINES or an operation route)."""
    names = {op.value for op in Capability}
    ops = [op.value for op, name in settings.engines.items() if name == engine]
    ops += [r.pattern for r in settings.routes if r.pattern in names and engine in r.engines]
    return tuple(dict.fromkeys(ops))


def image_config(settings: Settings, model: ImageModel) -> DiffusersConfig:
    """The engine's DiffusersConfig from `REELSERVE_<PREFIX>_*` and `REELSERVE_DIFFUSERS_*`."""
    shared: dict[str, Any] = dict(shared_settings(settings, model.engine))
    shared["operations"] = _operations(settings, model.engine)
    config = DiffusersConfig(
        engine=model.engine,
        model_dir=getattr(settings, f"{model.prefix}_model_dir"),
        setting=model.setting,
        width=getattr(settings, f"{model.prefix}_width"),
        height=getattr(settings, f"{model.prefix}_height"),
        num_frames=1,
        fps=1,
        steps=getattr(settings, f"{model.prefix}_steps"),
        guidance=getattr(settings, f"{model.prefix}_guidance"),
        negative_prompt="",
        max_sequence_length=getattr(settings, f"{model.prefix}_max_sequence_length", None),
        **shared,
    )
    configure = getattr(_module(model), "configure", None)
    return configure(settings, config) if configure is not None else config


def _module(model: ImageModel) -> Any:
    return importlib.import_module(f"reelserve.engines.diffusers.{model.module}")


def model_named(engine: str) -> ImageModel:
    return next(m for m in MODELS if m.engine == engine)


def zimage_config(settings: Settings) -> DiffusersConfig:
    return image_config(settings, model_named("z-image"))


def flux_kontext_config(settings: Settings) -> DiffusersConfig:
    return image_config(settings, model_named("flux-kontext"))


def flux_config(settings: Settings) -> DiffusersConfig:
    return image_config(settings, model_named("flux"))


def qwen_image_config(settings: Settings) -> DiffusersConfig:
    return image_config(settings, model_named("qwen-image"))


class ImageFactory:
    """Makes one image engine; `preflight` checks its weights directory and its operations."""

    def __init__(self, model: ImageModel, config: DiffusersConfig) -> None:
        self.model = model
        self.config = config

    def _engine_class(self) -> type[ImageEngine]:
        cls: type[ImageEngine] = _module(self.model).engine_class(self.config)
        refuse_unsupported(self.config, cls.capabilities)
        return cls

    def preflight(self) -> None:
        self._engine_class()

    def __call__(self) -> Engine:
        return self._engine_class()(self.config)


def image_factories(settings: Settings | None) -> dict[str, EngineFactory]:
    if settings is None:
        from reelserve.settings import Settings

        settings = Settings()
    return {m.engine: ImageFactory(m, image_config(settings, m)) for m in MODELS}
