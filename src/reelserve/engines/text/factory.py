"""Registry factory of the `lyrics-lm` engine: cheap, torch-free, with a start-up check."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reelserve.engines.base import Engine
from reelserve.engines.text.config import LyricsLMConfig, lyrics_lm_config
from reelserve.engines.text.weights import check_lyrics_lm

if TYPE_CHECKING:
    from reelserve.engines.registry import EngineFactory
    from reelserve.settings import Settings


class LyricsLMFactory:
    """Makes the `lyrics-lm` engine; `preflight` checks transformers and the model's files."""

    def __init__(self, config: LyricsLMConfig) -> None:
        self.config = config

    def preflight(self) -> None:
        check_lyrics_lm(self.config)

    def __call__(self) -> Engine:
        from reelserve.engines.text.lyrics_lm import LyricsLMEngine

        self.preflight()
        return LyricsLMEngine(self.config)


def text_factories(settings: Settings | None) -> dict[str, EngineFactory]:
    if settings is None:
        from reelserve.settings import Settings

        settings = Settings()
    return {"lyrics-lm": LyricsLMFactory(lyrics_lm_config(settings))}
