"""Registry factories of the music engines: cheap, torch-free, with a start-up check."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reelserve.engines.base import Engine
from reelserve.engines.music.config import (
    AceStepConfig,
    BasicPitchConfig,
    DemucsConfig,
    ace_step_config,
    basic_pitch_config,
    demucs_config,
)
from reelserve.engines.music.weights import basic_pitch_model, check_ace_step, check_demucs

if TYPE_CHECKING:
    from reelserve.engines.registry import EngineFactory
    from reelserve.settings import Settings


class AceStepFactory:
    """Makes the `ace-step` engine; `preflight` checks diffusers, its checkpoint and operations."""

    def __init__(self, config: AceStepConfig) -> None:
        self.config = config

    def preflight(self) -> None:
        check_ace_step(self.config)

    def __call__(self) -> Engine:
        from reelserve.engines.music.ace_step import AceStepEngine

        self.preflight()
        return AceStepEngine(self.config)


class DemucsFactory:
    """Makes the `demucs` engine; `preflight` checks its package and model files."""

    def __init__(self, config: DemucsConfig) -> None:
        self.config = config

    def preflight(self) -> None:
        check_demucs(self.config)

    def __call__(self) -> Engine:
        from reelserve.engines.music.demucs import DemucsEngine

        self.preflight()
        return DemucsEngine(self.config)


class BasicPitchFactory:
    """Makes the `basic-pitch` engine; `preflight` checks onnxruntime and the ONNX file."""

    def __init__(self, config: BasicPitchConfig) -> None:
        self.config = config

    def preflight(self) -> None:
        basic_pitch_model(self.config)

    def __call__(self) -> Engine:
        from reelserve.engines.music.basic_pitch import BasicPitchEngine

        self.preflight()
        return BasicPitchEngine(self.config)


def music_factories(settings: Settings | None) -> dict[str, EngineFactory]:
    if settings is None:
        from reelserve.settings import Settings

        settings = Settings()
    return {
        "ace-step": AceStepFactory(ace_step_config(settings)),
        "demucs": DemucsFactory(demucs_config(settings)),
        "basic-pitch": BasicPitchFactory(basic_pitch_config(settings)),
    }
