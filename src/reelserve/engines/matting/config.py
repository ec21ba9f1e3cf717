"""What the `rembg` engine needs from Settings, as a picklable value (it runs in a child)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reelserve.settings import Settings


@dataclass(frozen=True)
class RembgConfig:
    """The `rembg` engine's configuration (`REELSERVE_REMBG_*`)."""

    model: Path | None
    session: str = "u2net_custom"
    device: str = "cpu"
    threads: int = 0
    alpha_matting: bool = False
    engine: str = "rembg"
    setting: str = "REELSERVE_REMBG_MODEL"


def rembg_config(settings: Settings) -> RembgConfig:
    return RembgConfig(
        model=settings.rembg_model,
        session=settings.rembg_session,
        device=settings.rembg_device,
        threads=settings.rembg_threads,
        alpha_matting=settings.rembg_alpha_matting,
    )
