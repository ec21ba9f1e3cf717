"""What the `swin2sr` engine needs from Settings, as a picklable value (it runs in a child)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reelserve.settings import Settings


@dataclass(frozen=True)
class Swin2SRConfig:
    """The `swin2sr` engine's configuration (`REELSERVE_SWIN2SR_*`)."""

    model_dir: Path | None
    device: str = "auto"
    dtype: str = "auto"
    tile: int = 512
    """Tile side in input pixels (0: the whole image in one call)."""
    tile_overlap: int = 32
    """Input pixels each tile shares with its neighbours (capped at a quarter of `tile`)."""
    compile: bool = False
    engine: str = "swin2sr"
    setting: str = "REELSERVE_SWIN2SR_MODEL_DIR"


def swin2sr_config(settings: Settings) -> Swin2SRConfig:
    return Swin2SRConfig(
        model_dir=settings.swin2sr_model_dir,
        device=settings.swin2sr_device,
        dtype=settings.swin2sr_dtype,
        tile=settings.swin2sr_tile,
        compile=settings.swin2sr_compile,
    )
