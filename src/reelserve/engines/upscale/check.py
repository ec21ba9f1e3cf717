"""`reelserve engines check` for the upscalers: one tiny upscale_image and upscale_video."""

from __future__ import annotations

import time

import numpy as np

from reelserve.engines.base import Capability, Engine, EngineOutput, EngineRequest, ImageOutput
from reelserve.engines.isolated import IsolatedEngine

UPSCALERS = frozenset({Capability.UPSCALE_IMAGE, Capability.UPSCALE_VIDEO})
SIZE = (64, 36)
"""The check's input, width x height; upscaled 2x."""


def gradient(width: int, height: int, shift: int = 0) -> np.ndarray:
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    r, g = np.broadcast_to(x, (height, width)), np.broadcast_to(y, (height, width))
    b = np.full((height, width), (37 * shift) % 256, np.float32)
    return np.stack([r, g, b], axis=2).astype(np.uint8)


def check_upscale_engine(engine: Engine, name: str, seconds: int) -> str | None:
    """The `engines check` lines of an upscaler; None for an engine that does more (or less)."""
    if not engine.capabilities or not engine.capabilities <= UPSCALERS:
        return None
    lines: list[str] = []
    width, height = SIZE
    pipeline = ""
    if Capability.UPSCALE_IMAGE in engine.capabilities:
        request = EngineRequest(
            operation=Capability.UPSCALE_IMAGE,
            prompt="",
            width=2 * width,
            height=2 * height,
            images=[gradient(width, height)],
        )
        started = time.perf_counter()
        output = engine.run(request, lambda _: None)
        elapsed = time.perf_counter() - started
        if isinstance(engine, IsolatedEngine):
            pipeline = f" (pipeline {engine.stats.last_pipeline_s:.2f} s)"
        if isinstance(output, ImageOutput):
            sizes = ", ".join(f"{i.shape[1]}x{i.shape[0]}" for i in output.images)
            lines.append(
                f"{name}: upscale_image, {width}x{height} to {sizes} in {elapsed:.2f} s{pipeline}"
            )
        else:
            lines.append(f"{name}: upscale_image returned {type(output).__name__}")
    if Capability.UPSCALE_VIDEO in engine.capabilities:
        frames = 24 * seconds
        video = [gradient(width, height, i) for i in range(frames)]
        request = EngineRequest(
            operation=Capability.UPSCALE_VIDEO,
            prompt="",
            width=2 * width,
            height=2 * height,
            num_frames=frames,
            fps=24,
            video=video,
        )
        started = time.perf_counter()
        result = engine.run(request, lambda _: None)
        if isinstance(result, EngineOutput):
            count = sum(1 for _ in result.frames)
            elapsed = time.perf_counter() - started
            if isinstance(engine, IsolatedEngine):
                pipeline = f" (pipeline {engine.stats.last_pipeline_s:.2f} s)"
            lines.append(
                f"{name}: upscale_video, {count} frames {width}x{height} to "
                f"{result.width}x{result.height} in {elapsed:.2f} s{pipeline}"
            )
        else:
            lines.append(f"{name}: upscale_video returned {type(result).__name__}")
    return "\n".join(lines) if lines else None
