"""Producing a song (Suno's music tasks) in stages: sheets, the first track, the rest.

The engine returns a `MusicOutput`: every track's sheet (title, lyrics, tags)
at once, then the tracks one by one as its generator is consumed. Here:
1. the sheets and the track ids go into `sheets.json` (role `sheet`), and
   `on_stage(files, "text")` stores them and records the `text` stage;
2. each track is encoded as MP3 (role `track`, its sheet, word timings,
   recipe and a 200-point loudness curve inline) with its cover art as JPEG
   (role `track_cover`; the server draws one when the engine gives none);
   after the first, `on_stage(files, "first")`;
3. the whole list is returned: the loop records success (the `complete` stage).

Lengths: the plan's `duration_s`, or, when it is 0, the input's (covers,
add-vocals/-instrumental, replace-section), `continue_at` + the new part
(upload-extend) or the longer clip (mashup). Inputs longer than the
endpoint's `max_source_s`, or a `continue_at` past the upload's end, fail
the task as the input's fault (failCode 400).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np

from reelserve.engines.base import (
    Audio,
    Capability,
    Engine,
    EngineError,
    EngineRequest,
    Frame,
    MusicOutput,
    ProgressFn,
    Sheet,
    Track,
)
from reelserve.families.suno.rules import track_id
from reelserve.media.audio import resample, write_audio
from reelserve.media.images import write_image
from reelserve.observability.timing import engine_call, engine_items
from reelserve.tasks.models import Artifact, Task
from reelserve.tasks.specs import spec_of
from reelserve.worker.failures import GENERATION_FAILED, TaskFailure
from reelserve.worker.inputs import Inputs
from reelserve.worker.jobs import derive_seed
from reelserve.worker.produce import Produced

SAMPLE_RATE = 44100
COVER_SIDE = 512
WAVEFORM_POINTS = 200
Stage = Callable[[Produced, str], Awaitable[None]]


async def produce_music(
    task: Task,
    engine: Engine,
    inputs: Inputs,
    out_dir: Path,
    progress: ProgressFn,
    on_stage: Stage,
) -> Produced:
    """The song's files; `on_stage` is awaited after the sheets and after the first track."""
    spec = spec_of(task.params)
    request = await asyncio.to_thread(music_request, task, spec, inputs)
    count = request.count

    def report(fraction: float) -> None:
        progress(min(0.99, fraction))

    try:
        output = await asyncio.to_thread(engine_call, lambda: engine.run(request, report))
        if not isinstance(output, MusicOutput):
            raise EngineError(f"{engine.name} returned {type(output).__name__}, not music")
        sheets = output.sheets[:count]
        if len(sheets) < count:
            raise EngineError(f"{engine.name} wrote {len(sheets)} sheets for {count} tracks")
        ids = [track_id(task.id, index) for index in range(count)]
        produced: Produced = [_sheets_file(sheets, ids, out_dir)]
        await on_stage(list(produced), "text")
        tracks = engine_items(output.tracks)
        for index, sheet in enumerate(sheets):
            track = await asyncio.to_thread(next, tracks, None)
            if track is None:
                raise EngineError(f"{engine.name} made {index} tracks for {count} sheets")
            produced += await asyncio.to_thread(
                _track_files, track, sheet, index, ids[index], request, out_dir
            )
            report((index + 1) / count)
            if index == 0:
                await on_stage(list(produced), "first")
    except EngineError as exc:
        raise TaskFailure(f"{GENERATION_FAILED}: {exc}", exc.fail_code) from exc
    return produced


def _stereo(audio: Audio) -> Audio:
    return resample(audio, SAMPLE_RATE, 2)


def _length(spec: dict[str, Any], extras: dict[str, Any], clips: list[Audio]) -> float:
    """The output's seconds (see the module docstring); a TaskFailure for inputs out of bounds."""
    limit = float(extras.get("max_source_s") or 0)
    for clip in clips:
        if limit and clip.seconds > limit + 0.5:
            raise TaskFailure(
                f"The uploaded audio is longer than {limit:g} seconds ({clip.seconds:.1f} s)",
                400,
            )
    seconds = float(spec.get("duration_s") or 0.0)
    if seconds:
        return seconds
    operation = Capability(spec["operation"])
    if not clips:
        raise TaskFailure("The task has no input audio", 400)
    if operation is Capability.MASHUP_MUSIC:
        return min(limit or 240.0, max(c.seconds for c in clips))
    source = clips[0].seconds
    if operation is Capability.EXTEND_MUSIC:
        at = extras.get("continue_at")
        start = float(at) if at is not None else source
        if start >= source:
            raise TaskFailure(
                f"continueAt must be less than the uploaded audio's length ({source:.2f} s)", 400
            )
        return min(float(limit or 480.0), start + float(extras.get("part_s") or 60.0))
    return source


def music_request(task: Task, spec: dict[str, Any], inputs: Inputs) -> EngineRequest:
    """The engine request of a song (engines/base.MUSIC_OPERATIONS says what each op gets)."""
    extras = dict(spec.get("extras") or {})
    clips = [_stereo(clip) for _, clip in inputs.audio]
    seconds = _length(spec, extras, clips)
    if (
        Capability(spec["operation"]) is Capability.EXTEND_MUSIC
        and extras.get("continue_at") is None
    ):
        extras["continue_at"] = clips[0].seconds if clips else 0.0
    seed = spec.get("seed")
    if seed is None:
        seed = derive_seed(
            model=task.params.get("model_id"),
            values=task.params.get("values"),
            w=0,
            h=0,
            inputs=inputs.digests,
        )
    return EngineRequest(
        operation=Capability(spec["operation"]),
        prompt=str(spec.get("prompt") or ""),
        seed=int(seed) & 0xFFFFFFFF,
        audio=clips[0] if clips else None,
        clips=clips,
        count=max(1, int(spec.get("count") or 1)),
        duration_s=round(seconds, 3),
        sample_rate=SAMPLE_RATE,
        model=str(task.params.get("model_id") or ""),
        params=extras,
    )


def _sheets_file(sheets: list[Sheet], ids: list[str], out_dir: Path) -> tuple[Artifact, Path]:
    data = {
        "tracks": [
            {"id": ids[i], "title": s.title, "lyrics": s.lyrics, "tags": s.tags}
            for i, s in enumerate(sheets)
        ]
    }
    path = out_dir / "sheets.json"
    path.write_text(json.dumps(data, ensure_ascii=False))
    artifact = Artifact(
        "text", "sheet", path.name, "application/json", bytes=path.stat().st_size, data=data
    )
    return (artifact, path)


def waveform(audio: Audio, points: int = WAVEFORM_POINTS) -> list[float]:
    """Peak loudness of `points` equal slices, 0..1 (timestamped lyrics' `waveformData`)."""
    mono = np.abs(audio.samples).max(axis=1) if audio.samples.size else np.zeros(1, np.float32)
    slices = np.array_split(mono, points)
    return [round(float(s.max()) if s.size else 0.0, 3) for s in slices]


def default_cover(sheet: Sheet, seed: int) -> Frame:
    """Square art for a track its engine drew none for: a two-colour gradient from the title."""
    import zlib

    rng = np.random.default_rng(zlib.crc32(f"{sheet.title}|{sheet.tags}|{seed}".encode()))
    top, bottom = rng.integers(30, 225, size=3), rng.integers(30, 225, size=3)
    ramp = np.linspace(0.0, 1.0, COVER_SIDE, dtype=np.float32)[:, None, None]
    image = top[None, None, :] * (1 - ramp) + bottom[None, None, :] * ramp
    return np.broadcast_to(image, (COVER_SIDE, COVER_SIDE, 3)).astype(np.uint8)


def _track_files(
    track: Track, sheet: Sheet, index: int, audio_id: str, request: EngineRequest, out_dir: Path
) -> Produced:
    audio = track.audio
    want = round(request.duration_s * audio.sample_rate) if request.duration_s else 0
    if want and abs(len(audio.samples) - want) > audio.sample_rate * 0.05:
        raise EngineError(
            f"track {index} lasts {audio.seconds:.2f} s; the task asked for "
            f"{request.duration_s:.2f} s"
        )
    mp3 = out_dir / f"track-{index}.mp3"
    write_audio(mp3, audio, "mp3")
    cover = track.cover if track.cover is not None else default_cover(sheet, request.seed)
    jpeg = out_dir / f"track-{index}.jpeg"
    write_image(jpeg, cover[:, :, :3], "jpeg")
    info = {
        "index": index,
        "id": audio_id,
        "title": sheet.title,
        "lyrics": sheet.lyrics,
        "tags": sheet.tags,
        "words": [[w.text, round(w.start, 3), round(w.end, 3)] for w in track.words],
        "recipe": track.recipe,
        "waveform": waveform(audio),
    }
    height, width = cover.shape[:2]
    return [
        (
            Artifact(
                "audio",
                "track",
                mp3.name,
                "audio/mpeg",
                duration=audio.seconds,
                bytes=mp3.stat().st_size,
                data=info,
            ),
            mp3,
        ),
        (
            Artifact(
                "image",
                "track_cover",
                jpeg.name,
                "image/jpeg",
                width,
                height,
                bytes=jpeg.stat().st_size,
                data={"index": index},
            ),
            jpeg,
        ),
    ]
