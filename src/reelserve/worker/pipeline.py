"""Rendering one task: engine frames -> fitted, resampled, watermarked -> one MP4 + PNG cover.

Runs in a worker thread (blocking: numpy, PyAV). Frames are streamed, so a
long 1080p extension never sits in memory whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from reelserve.engines.base import (
    Engine,
    EngineError,
    EngineOutput,
    EngineRequest,
    Frame,
    ProgressFn,
)
from reelserve.media.decode import iter_frames
from reelserve.media.encode import Mp4Writer, write_png
from reelserve.media.frames import Watermark, fit_cover, resample_indices
from reelserve.observability.timing import engine_call, engine_items
from reelserve.worker.failures import GENERATION_FAILED, TaskFailure


@dataclass(frozen=True)
class RenderPlan:
    request: EngineRequest
    out_dir: Path
    watermark: str | None = None
    prefix_video: Path | None = None
    """For extensions: the parent's video, re-encoded in front of the new segment."""
    prefix_frames: int = 0
    x264_preset: str = "veryfast"


@dataclass(frozen=True)
class Rendered:
    video: Path
    cover: Path
    frames: int
    width: int
    height: int
    fps: int


def fitted(output: EngineOutput, request: EngineRequest) -> Iterator[Frame]:
    """The engine's frames at exactly the requested size and count.

    Size: each frame is scaled to cover the target and centre-cropped.
    Count: nearest-neighbour resampling in time (`resample_indices`), which
    keeps motion speed when an engine renders at another fps or length.
    """
    frames: Iterable[Frame] = output.frames
    if output.num_frames != request.num_frames:
        buffered = list(frames)
        frames = (buffered[i] for i in resample_indices(len(buffered), request.num_frames))
    for frame in frames:
        if frame.shape[0] != request.height or frame.shape[1] != request.width:
            frame = fit_cover(frame, request.width, request.height)
        yield frame


def render(plan: RenderPlan, engine: Engine, progress: ProgressFn) -> Rendered:
    """The plan rendered to files; an `EngineError` fails the task at once with its message."""
    try:
        return _render(plan, engine, progress)
    except EngineError as exc:
        # The engine said why (a dead engine process, an input it cannot use):
        # retrying would likely repeat it, so the client hears it now.
        raise TaskFailure(f"{GENERATION_FAILED}: {exc}", exc.fail_code) from exc


def _render(plan: RenderPlan, engine: Engine, progress: ProgressFn) -> Rendered:
    req = plan.request
    total = plan.prefix_frames + req.num_frames
    video = plan.out_dir / "video.mp4"
    cover = plan.out_dir / "cover.png"
    mark = Watermark(plan.watermark, req.width, req.height) if plan.watermark else None
    done = 0

    def report_engine(fraction: float) -> None:
        progress(min(0.99, (plan.prefix_frames + fraction * req.num_frames) / total))

    with Mp4Writer(video, req.width, req.height, req.fps, preset=plan.x264_preset) as writer:
        sources: list[Iterable[Frame]] = []
        if plan.prefix_video is not None:
            sources.append(_prefix(plan))
        output = engine_call(lambda: engine.run(req, report_engine))
        if not isinstance(output, EngineOutput):
            raise EngineError(f"{engine.name} returned {type(output).__name__} for a video")
        output = replace(output, frames=engine_items(output.frames))
        sources.append(fitted(output, req))
        for source in sources:
            for frame in source:
                if mark is not None:
                    frame = mark.apply(frame)
                if done == 0:
                    write_png(cover, frame)
                writer.write(frame)
                done += 1
                if done <= plan.prefix_frames and done % 24 == 0:
                    progress(min(0.99, done / total))
    if done != total:
        raise RuntimeError(f"rendered {done} frames, expected {total}")
    return Rendered(video, cover, done, req.width, req.height, req.fps)


def _prefix(plan: RenderPlan) -> Iterator[Frame]:
    assert plan.prefix_video is not None
    req = plan.request
    count = 0
    for frame in iter_frames(plan.prefix_video, max_frames=plan.prefix_frames):
        if frame.shape[0] != req.height or frame.shape[1] != req.width:
            frame = fit_cover(frame, req.width, req.height)
        count += 1
        yield frame
    if count != plan.prefix_frames:
        raise RuntimeError(f"parent video has {count} frames, expected {plan.prefix_frames}")
