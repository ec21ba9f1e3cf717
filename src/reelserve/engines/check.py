"""`reelserve engines check`: load the configured engines, run a tiny generation, print times.

Run it on a GPU host after preparing weights (docs/engines.md) to see that the
model loads from its directory and generates, before serving traffic:

    $ REELSERVE_ENGINES=ltx-video REELSERVE_LTX_MODEL_DIR=/models/ltx reelserve engines check
    ltx-video: loaded in 41.2 s (LTXConditionPipeline, cuda, bfloat16)
    ltx-video: text_to_video, 25 frames 768x512 at 24 fps in 6.10 s (pipeline 5.92 s)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated

import typer

from reelserve.engines.base import Capability, Engine, EngineOutput, EngineRequest, ImageOutput
from reelserve.settings import Settings

# numpy, the engine registry and the engines are imported by the functions that use them:
# `reelserve` imports this module for every command, and a client command needs none of them.

engines_app = typer.Typer(help="Inspect the configured engines.", no_args_is_help=True)

PREFERRED = (
    Capability.TEXT_TO_VIDEO,
    Capability.IMAGE_TO_VIDEO,
    Capability.VIDEO_TO_VIDEO,
    Capability.EXTEND,
    Capability.TEXT_TO_IMAGE,
    Capability.IMAGE_TO_IMAGE,
)


def tiny_request(operation: Capability, width: int, height: int, seconds: int) -> EngineRequest:
    """A short request with grey inputs where the operation needs them."""
    import numpy as np

    frames = 24 * seconds
    grey = np.full((height, width, 3), 128, np.uint8)
    return EngineRequest(
        operation=operation,
        prompt="a red car drives along a beach at sunset",
        width=width,
        height=height,
        num_frames=frames,
        fps=24,
        seed=1,
        image=grey if operation in (Capability.IMAGE_TO_VIDEO, Capability.EXTEND) else None,
        context=[grey] * 9 if operation is Capability.EXTEND else None,
        video=[grey] * frames if operation is Capability.VIDEO_TO_VIDEO else None,
        images=[grey] if operation is Capability.IMAGE_TO_IMAGE else [],
    )


def check_engine(engine: Engine, name: str, seconds: int) -> str:
    """One generation with `engine`; the line `engines check` prints for it."""
    from reelserve.engines.isolated import IsolatedEngine
    from reelserve.engines.matting.check import check_matting_engine
    from reelserve.engines.music.check import check_music_engine
    from reelserve.engines.text.check import check_text_engine
    from reelserve.engines.upscale.check import check_upscale_engine

    special: tuple[Callable[[], str | None], ...] = (  # a check of their own kind, or None
        lambda: check_music_engine(engine, name, seconds),
        lambda: check_upscale_engine(engine, name, seconds),
        lambda: check_matting_engine(engine, name),
        lambda: check_text_engine(engine, name),
    )
    for check_kind in special:
        line = check_kind()
        if line is not None:
            return line
    operation = next(op for op in PREFERRED if op in engine.capabilities)
    started = time.perf_counter()
    output = engine.run(tiny_request(operation, 256, 256, seconds), lambda _: None)
    if isinstance(output, ImageOutput):
        return _image_line(engine, name, operation, output, time.perf_counter() - started)
    if not isinstance(output, EngineOutput):
        return f"{name}: {operation.value} returned {type(output).__name__}, not video frames"
    count = sum(1 for _ in output.frames)
    elapsed = time.perf_counter() - started
    pipeline = ""
    if isinstance(engine, IsolatedEngine):
        pipeline = f" (pipeline {engine.stats.last_pipeline_s:.2f} s)"
    return (
        f"{name}: {operation.value}, {count} frames {output.width}x{output.height} "
        f"at {output.fps:g} fps in {elapsed:.2f} s{pipeline}"
    )


def _image_line(
    engine: Engine, name: str, operation: Capability, output: ImageOutput, elapsed: float
) -> str:
    from reelserve.engines.isolated import IsolatedEngine

    sizes = ", ".join(sorted({f"{i.shape[1]}x{i.shape[0]}" for i in output.images}))
    pipeline = ""
    if isinstance(engine, IsolatedEngine):
        pipeline = f" (pipeline {engine.stats.last_pipeline_s:.2f} s)"
    count = len(output.images)
    return (
        f"{name}: {operation.value}, {count} image{'s' if count != 1 else ''} {sizes} "
        f"(native size; the server fits it) in {elapsed:.2f} s{pipeline}"
    )


@engines_app.command("check")
def check(
    engine: Annotated[
        str | None, typer.Option("--engine", help="one engine (default: every configured one)")
    ] = None,
    seconds: Annotated[int, typer.Option(min=1, max=10, help="length of the test video")] = 1,
) -> None:
    """Load the configured engines, run a tiny generation each, print load and generation times."""
    from reelserve.engines.isolated import IsolatedEngine
    from reelserve.engines.registry import EngineUnavailable, registry_for
    from reelserve.upstream.engine import UpstreamEngine
    from reelserve.worker.loop import configured_engines

    settings = Settings()
    registry = registry_for(settings.engine_plugins, settings)
    names = [engine] if engine else sorted(configured_engines(settings))
    try:
        for name in names:
            registry.check(name)
            started = time.perf_counter()
            loaded = registry.get(name)
            load_s = time.perf_counter() - started
            detail = ""
            if isinstance(loaded, IsolatedEngine):
                info = loaded.stats.info
                detail = f" ({info.get('pipeline')}, {info.get('device')}, {info.get('dtype')})"
            if isinstance(loaded, UpstreamEngine):
                upstream = name.removeprefix("upstream:")
                typer.echo(f"{name}: forwards tasks; see `reelserve upstream check {upstream}`")
                continue
            typer.echo(f"{name}: loaded in {load_s:.2f} s{detail}")
            typer.echo(check_engine(loaded, name, seconds))
    except EngineUnavailable as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except Exception as exc:
        typer.echo(f"error: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        registry.close()
