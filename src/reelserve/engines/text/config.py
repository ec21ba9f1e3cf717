"""What the `lyrics-lm` engine needs from Settings, as a picklable value (it runs in a child)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reelserve.settings import Settings


@dataclass(frozen=True)
class LyricsLMConfig:
    """The `lyrics-lm` engine's configuration (`REELSERVE_LYRICS_LM_*`)."""

    model_dir: Path | None
    device: str = "auto"
    dtype: str = "auto"
    """auto: bfloat16 on CUDA, float32 on CPU."""
    max_new_tokens: int = 400
    temperature: float = 0.8
    """0: greedy decoding (the same idea gives the same lyrics whatever the seed)."""
    compile: bool = False
    """A static KV cache, with transformers compiling the forward pass (on CUDA)."""
    engine: str = "lyrics-lm"
    setting: str = "REELSERVE_LYRICS_LM_MODEL_DIR"


def lyrics_lm_config(settings: Settings) -> LyricsLMConfig:
    return LyricsLMConfig(
        model_dir=settings.lyrics_lm_model_dir,
        device=settings.lyrics_lm_device,
        dtype=settings.lyrics_lm_dtype,
        max_new_tokens=settings.lyrics_lm_max_new_tokens,
        temperature=settings.lyrics_lm_temperature,
        compile=settings.lyrics_lm_compile,
    )
