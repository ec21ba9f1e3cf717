"""`reelserve engines check` for background removal: one tiny remove_background."""

from __future__ import annotations

import time

from reelserve.engines.base import Capability, Engine, EngineRequest, ImageOutput
from reelserve.engines.isolated import IsolatedEngine
from reelserve.engines.upscale.check import gradient

SIZE = (64, 48)
"""The check's input, width x height."""


def check_matting_engine(engine: Engine, name: str) -> str | None:
    """The `engines check` line of a remove_background-only engine; None for any other."""
    if engine.capabilities != frozenset({Capability.REMOVE_BACKGROUND}):
        return None
    width, height = SIZE
    request = EngineRequest(
        operation=Capability.REMOVE_BACKGROUND,
        prompt="",
        width=width,
        height=height,
        images=[gradient(width, height)],
    )
    started = time.perf_counter()
    output = engine.run(request, lambda _: None)
    elapsed = time.perf_counter() - started
    if not isinstance(output, ImageOutput) or not output.images:
        return f"{name}: remove_background returned {type(output).__name__}"
    image = output.images[0]
    pipeline = ""
    if isinstance(engine, IsolatedEngine):
        pipeline = f" (pipeline {engine.stats.last_pipeline_s:.2f} s)"
    kind = "RGBA" if image.ndim == 3 and image.shape[2] == 4 else f"shape {image.shape}"
    return (
        f"{name}: remove_background, {width}x{height} to {image.shape[1]}x{image.shape[0]} "
        f"{kind} in {elapsed:.2f} s{pipeline}"
    )
