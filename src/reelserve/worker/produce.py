"""Producing a task of any kind (market models): plan the engine request, run it, encode by kind.

The family decided at submit what the task makes (`params["spec"]`: operation,
kind, size rule, duration, count, sound, formats; `tasks/specs.py`) and which
sources it reads (`params["sources"]`). Here the sources are read and
decoded (`worker/inputs.py`), the output geometry fixed (`catalogue.output_size`:
an `auto` ratio or an upscale takes the input's size), the engine run, and its
output fitted and encoded by kind:

- video: H.264 MP4 (+ AAC when the task has sound) and a PNG cover; Seedance's
  `return_last_frame` adds the first and last frames as PNGs;
- image: one file per image in the model's `output_format` (PNG keeps alpha);
- audio: MP3 or WAV;
- text: a JSON file, also kept inline in the artifact for polls.

Runs the blocking parts (engine, encoders) in worker threads.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from reelserve.engines.base import (
    Audio,
    AudioOutput,
    Capability,
    Engine,
    EngineError,
    EngineOutput,
    EngineRequest,
    Frame,
    ImageOutput,
    Kind,
    ProgressFn,
    StemsOutput,
    TextOutput,
)
from reelserve.media.encode import Mp4Writer, write_png
from reelserve.media.frames import fit_cover
from reelserve.observability.timing import engine_call, engine_items
from reelserve.tasks import geometry
from reelserve.tasks.models import Artifact, Task
from reelserve.tasks.specs import output_size_of, spec_of
from reelserve.worker.failures import GENERATION_FAILED, TaskFailure
from reelserve.worker.inputs import Inputs
from reelserve.worker.jobs import derive_seed
from reelserve.worker.pipeline import fitted

MAX_VIDEO_SIDE = 4096
"""Upscaled videos are capped here (keeping the ratio): H.264 level 6.2 tops out at 8192x4320."""
MAX_IMAGE_SIDE = 8192
MAX_SOURCE_SECONDS = 60.0
"""Longest stretch of a source video or audio a task reads."""

IMAGE_MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
IMAGE_EXT = {"png": "png", "jpeg": "jpg", "webp": "webp"}
AUDIO_MIME = {"mp3": "audio/mpeg", "wav": "audio/wav"}

Produced = list[tuple[Artifact, Path]]
"""Each artifact (its `key` a file name, made a blob key by the caller) and its file."""


@dataclass
class _Plan:
    request: EngineRequest
    prefix_video: Path | None = None
    prefix_frames: int = 0


def _capped(width: int, height: int, limit: int, *, even: bool = True) -> tuple[int, int]:
    """At most `limit` on the long side, the ratio kept; video sides even (yuv420p)."""
    if max(width, height) <= limit:
        return (width, height)
    scale = limit / max(width, height)
    width, height = max(2, int(width * scale)), max(2, int(height * scale))
    return (width // 2 * 2, height // 2 * 2) if even else (width, height)


def _snapped(choices: list[str], width: int, height: int, resolution: str) -> tuple[int, int]:
    """An `Auto` ratio limited to `choices` (Veo: 16:9 or 9:16): the closest one to width/height."""
    import math

    from reelserve.catalogue import geometry as geo

    own = math.log(max(width, 1) / max(height, 1))
    best = min(choices, key=lambda r: abs(math.log(geo.ratio_value(r)) - own))
    return geo.video_size(best, resolution)


async def produce(
    task: Task,
    engine: Engine,
    inputs: Inputs,
    out_dir: Path,
    progress: ProgressFn,
    x264_preset: str = "veryfast",
) -> Produced:
    """The task's files, encoded from its decoded `inputs` (`worker/inputs.load_inputs`);
    an engine's `EngineError` fails the task with its message."""
    spec = spec_of(task.params)
    plan = await asyncio.to_thread(_plan, task, spec, inputs, out_dir)
    try:
        return await asyncio.to_thread(
            _run_and_encode, plan, engine, spec, out_dir, progress, x264_preset
        )
    except EngineError as exc:
        raise TaskFailure(f"{GENERATION_FAILED}: {exc}", exc.fail_code) from exc


def _seed(task: Task, spec: dict[str, Any], inputs: Inputs, width: int, height: int) -> int:
    if spec.get("seed") is not None:
        return int(spec["seed"]) & 0xFFFFFFFF
    return derive_seed(
        model=task.params.get("model_id"),
        values=task.params.get("values"),
        w=width,
        h=height,
        inputs=inputs.digests,
    )


_ON_VIDEO = (
    Capability.VIDEO_TO_VIDEO,
    Capability.UPSCALE_VIDEO,
    Capability.EXTEND,
    Capability.MOTION_TRANSFER,
)


def _source_size(
    spec: dict[str, Any], inputs: Inputs, video_size: tuple[int, int] | None
) -> tuple[int, int] | None:
    """The size an `auto` ratio or an upscale follows (`catalogue.primary_source`'s rule):
    the input video for video inputs (motion transfer: the image when its
    `character_orientation` is "image"), else the first image, else the video."""
    operation = Capability(spec["operation"])
    orientation = (spec.get("extras") or {}).get("character_orientation")
    if operation in _ON_VIDEO and video_size and orientation != "image":
        return video_size
    if inputs.images:
        image = inputs.images[0][1]
        return (image.shape[1], image.shape[0])
    return video_size


def _plan(task: Task, spec: dict[str, Any], inputs: Inputs, out_dir: Path) -> _Plan:
    from reelserve.media.decode import probe
    from reelserve.worker.restyle import _source_frames

    operation = Capability(spec["operation"])
    kind = Kind(spec["kind"])
    video_path = next((p for role, p in inputs.videos if role == "video"), None)
    if video_path is None and inputs.videos:
        video_path = inputs.videos[0][1]
    audio = inputs.audio[0][1] if inputs.audio else None
    video_info = probe(video_path) if video_path is not None else None
    video_size = (video_info.width, video_info.height) if video_info is not None else None
    width, height = output_size_of(spec, _source_size(spec, inputs, video_size))
    choices = (spec.get("extras") or {}).get("ratio_choices")
    if choices and kind is Kind.VIDEO and not (spec.get("width") and spec.get("height")):
        width, height = _snapped(choices, width, height, str(spec.get("resolution") or "720p"))
    if kind is Kind.VIDEO:
        width, height = _capped(max(2, width // 2 * 2), max(2, height // 2 * 2), MAX_VIDEO_SIDE)
    elif kind is Kind.IMAGE:
        width, height = _capped(width, height, MAX_IMAGE_SIDE, even=False)
    duration = float(spec.get("duration_s") or 0.0)
    common: dict[str, Any] = {
        "operation": operation,
        "prompt": str(spec.get("prompt") or ""),
        "model": str(task.params.get("model_id") or ""),
        "params": dict(spec.get("extras") or {}) | dict(task.params.get("values") or {}),
        "sound": bool(spec.get("sound")),
        "count": max(1, int(spec.get("count") or 1)),
        "duration_s": duration,
        "audio": audio,
        "clips": [clip for _, clip in inputs.audio],
    }
    seed = _seed(task, spec, inputs, width, height)
    if kind is not Kind.VIDEO:
        image = inputs.image("image", "first_frame", "reference")
        if image is None and inputs.images:
            image = inputs.images[0][1]
        images = [frame for role, frame in inputs.images if role != "mask"]
        request = EngineRequest(
            width=width,
            height=height,
            seed=seed,
            image=image,
            images=images,
            mask=inputs.image("mask"),
            **common,
        )
        return _Plan(request)
    prefix_video: Path | None = None
    prefix_frames = 0
    video: list[Frame] | None = None
    context: list[Frame] | None = None
    image = inputs.image("image", "first_frame")
    if operation is Capability.EXTEND and video_path is not None and video_info is not None:
        from reelserve.worker.jobs import _fitted_tail

        info = video_info  # probed once, above
        prefix_video = video_path
        at = float((spec.get("extras") or {}).get("extend_at") or 0.0)
        prefix_frames = info.frame_count
        if at > 0:
            prefix_frames = max(1, min(info.frame_count, round(at * (info.fps or geometry.FPS))))
        context = _fitted_tail(video_path, 9, width, height)
        image = context[-1]
        num_frames = geometry.frame_count(max(1, round(duration or 6)))
    else:
        if video_path is not None:
            seconds = duration or MAX_SOURCE_SECONDS
            keep = None if operation is Capability.UPSCALE_VIDEO else (width, height)
            video, _w, _h = _source_frames(video_path, min(seconds, MAX_SOURCE_SECONDS), keep)
        follows_video = operation in (Capability.VIDEO_TO_VIDEO, Capability.UPSCALE_VIDEO) or (
            operation is Capability.MOTION_TRANSFER and not duration
        )
        if video is not None and follows_video:
            num_frames = len(video)
        elif duration:
            num_frames = max(1, round(duration * geometry.FPS))
        elif audio is not None:
            num_frames = max(1, round(min(audio.seconds, MAX_SOURCE_SECONDS) * geometry.FPS))
        else:
            num_frames = geometry.frame_count(5)
    if image is None and operation is Capability.IMAGE_TO_VIDEO and video is not None:
        image = video[-1]  # a first clip given instead of a first frame: go on from its end
    if image is not None and operation is not Capability.EXTEND:
        image = fit_cover(image, width, height)
    reference = inputs.image("reference", "last_frame")
    request = EngineRequest(
        width=width,
        height=height,
        num_frames=num_frames,
        fps=geometry.FPS,
        seed=seed,
        image=image,
        video=video,
        context=context,
        reference_image=reference,
        images=inputs.images_except("image", "first_frame", "mask"),
        **common,
    )
    return _Plan(request, prefix_video, prefix_frames)


def _run_and_encode(
    plan: _Plan,
    engine: Engine,
    spec: dict[str, Any],
    out_dir: Path,
    progress: ProgressFn,
    x264_preset: str,
) -> Produced:
    req = plan.request
    total = plan.prefix_frames + req.num_frames

    def report(fraction: float) -> None:
        if total:
            fraction = (plan.prefix_frames + fraction * req.num_frames) / total
        progress(min(0.99, fraction))

    output = engine_call(lambda: engine.run(req, report))
    kind = Kind(spec["kind"])
    if kind is Kind.VIDEO:
        if not isinstance(output, EngineOutput):
            raise EngineError(f"{engine.name} returned {type(output).__name__}, not video")
        output = replace(output, frames=engine_items(output.frames))
        return _encode_video(plan, output, spec, out_dir, x264_preset, progress)
    if kind is Kind.IMAGE:
        if not isinstance(output, ImageOutput) or not output.images:
            raise EngineError(f"{engine.name} returned {type(output).__name__}, not images")
        return _encode_images(output.images, req, str(spec.get("image_format") or "png"), out_dir)
    if kind is Kind.AUDIO and isinstance(output, StemsOutput):
        return _encode_stems(output, str(spec.get("audio_format") or "mp3"), out_dir)
    if kind is Kind.AUDIO:
        if not isinstance(output, AudioOutput):
            raise EngineError(f"{engine.name} returned {type(output).__name__}, not audio")
        return _encode_audio(output.audio, str(spec.get("audio_format") or "mp3"), out_dir)
    if not isinstance(output, TextOutput):
        raise EngineError(f"{engine.name} returned {type(output).__name__}, not text")
    path = out_dir / "result.json"
    path.write_bytes(json.dumps(output.data, ensure_ascii=False).encode())
    size = path.stat().st_size
    return [
        (
            Artifact("text", "text", path.name, "application/json", bytes=size, data=output.data),
            path,
        )
    ]


def _encode_video(
    plan: _Plan,
    output: EngineOutput,
    spec: dict[str, Any],
    out_dir: Path,
    preset: str,
    progress: ProgressFn,
) -> Produced:
    from reelserve.media.decode import iter_frames

    req = plan.request
    video, cover = out_dir / "video.mp4", out_dir / "cover.png"
    audio = output.audio if req.sound else None
    if req.sound and audio is None:
        raise EngineError("the task has sound but the engine returned no audio track")
    first: Frame | None = None
    last: Frame | None = None
    done = 0
    segment_path = out_dir / "segment.mp4"
    segment: Mp4Writer | None = None
    if plan.prefix_video is not None and (spec.get("extras") or {}).get("segment"):
        # The extension's new part alone (Veo's `resultUrls`; the whole video is `fullResultUrls`).
        segment = Mp4Writer(
            segment_path, req.width, req.height, req.fps, preset=preset, audio=audio
        )
        segment.__enter__()
    segment_frames = 0
    with Mp4Writer(video, req.width, req.height, req.fps, preset=preset, audio=audio) as writer:
        frames: list[Callable[[], Any]] = []
        if plan.prefix_video is not None:
            prefix = plan.prefix_video

            def prefix_frames() -> Any:
                for frame in iter_frames(prefix, max_frames=plan.prefix_frames):
                    if frame.shape[0] != req.height or frame.shape[1] != req.width:
                        frame = fit_cover(frame, req.width, req.height)
                    yield frame

            frames.append(prefix_frames)
        frames.append(lambda: fitted(output, req))
        try:
            for number, source in enumerate(frames):
                new_part = number == len(frames) - 1
                for frame in source():
                    if first is None:
                        first = frame
                        write_png(cover, frame)
                    writer.write(frame)
                    if segment is not None and new_part:
                        segment.write(frame)
                        segment_frames += 1
                    last = frame
                    done += 1
        finally:
            if segment is not None:
                segment.__exit__(None, None, None)
    if first is None or last is None:
        raise EngineError("the engine produced no frames")
    seconds = done / req.fps
    size = video.stat().st_size
    produced: Produced = [
        (
            Artifact(
                "video", "video", video.name, "video/mp4", req.width, req.height, seconds, size
            ),
            video,
        ),
        (
            Artifact(
                "image",
                "cover",
                cover.name,
                "image/png",
                req.width,
                req.height,
                bytes=cover.stat().st_size,
            ),
            cover,
        ),
    ]
    if segment is not None:
        produced.append(
            (
                Artifact(
                    "video",
                    "segment",
                    segment_path.name,
                    "video/mp4",
                    req.width,
                    req.height,
                    segment_frames / req.fps,
                    segment_path.stat().st_size,
                ),
                segment_path,
            )
        )
    if spec.get("return_last_frame"):
        for role, frame in (("first_frame", first), ("last_frame", last)):
            path = out_dir / f"{role}.png"
            write_png(path, frame)
            produced.append(
                (
                    Artifact(
                        "image",
                        role,
                        path.name,
                        "image/png",
                        req.width,
                        req.height,
                        bytes=path.stat().st_size,
                    ),
                    path,
                )
            )
    progress(0.99)
    return produced


def _fit_image(image: Frame, width: int, height: int) -> Frame:
    if image.shape[0] == height and image.shape[1] == width:
        return image
    if image.ndim == 3 and image.shape[2] == 3:
        return fit_cover(image, width, height)
    # RGBA (background removal): scale to cover, keep the alpha, centre-crop.
    pil = Image.fromarray(image)
    scale = max(width / pil.width, height / pil.height)
    size = (max(width, round(pil.width * scale)), max(height, round(pil.height * scale)))
    pil = pil.resize(size, Image.Resampling.LANCZOS)
    left, top = (pil.width - width) // 2, (pil.height - height) // 2
    return np.asarray(pil.crop((left, top, left + width, top + height)))


def _encode_images(images: list[Frame], req: EngineRequest, fmt: str, out_dir: Path) -> Produced:
    from reelserve.media.images import write_image

    fmt = fmt if fmt in IMAGE_MIME else "png"
    produced: Produced = []
    for index, image in enumerate(images[: req.count] if req.count else images):
        fitted_image = _fit_image(image, req.width, req.height) if req.width else image
        path = out_dir / f"image-{index}.{IMAGE_EXT[fmt]}"
        write_image(path, fitted_image, fmt)
        height, width = fitted_image.shape[:2]
        produced.append(
            (
                Artifact(
                    "image",
                    "image",
                    path.name,
                    IMAGE_MIME[fmt],
                    width,
                    height,
                    bytes=path.stat().st_size,
                ),
                path,
            )
        )
    return produced


def _encode_audio(audio: Audio, fmt: str, out_dir: Path) -> Produced:
    from reelserve.media.audio import write_audio

    fmt = fmt if fmt in AUDIO_MIME else "mp3"
    path = out_dir / f"audio.{fmt}"
    write_audio(path, audio, fmt)
    return [
        (
            Artifact(
                "audio",
                "audio",
                path.name,
                AUDIO_MIME[fmt],
                duration=audio.seconds,
                bytes=path.stat().st_size,
            ),
            path,
        )
    ]


def _encode_stems(output: StemsOutput, fmt: str, out_dir: Path) -> Produced:
    """One file per stem (role `stem`, its name and a fresh id inline), in the engine's order."""
    import uuid

    from reelserve.media.audio import write_audio

    if not output.stems:
        raise EngineError("the engine separated no stems")
    fmt = fmt if fmt in AUDIO_MIME else "mp3"
    produced: Produced = []
    for name, audio in output.stems.items():
        path = out_dir / f"{name}.{fmt}"
        write_audio(path, audio, fmt)
        artifact = Artifact(
            "audio",
            "stem",
            path.name,
            AUDIO_MIME[fmt],
            duration=audio.seconds,
            bytes=path.stat().st_size,
            data={"name": name, "id": str(uuid.uuid4())},
        )
        produced.append((artifact, path))
    return produced
