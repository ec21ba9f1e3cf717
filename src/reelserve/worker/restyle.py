"""Planning a video_to_video task (Aleph, market): fetch, check and decode the source video.

Only the first `max_seconds` of the source are decoded, and only the frames
the output shows are kept (already fitted to the output size), so memory is
bounded by the output, not by the source.
"""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import math
from pathlib import Path
from typing import Any

from reelserve.blobs.base import BlobStore
from reelserve.engines.base import Capability, EngineRequest, Frame
from reelserve.media.decode import VideoFormatError, is_still_image, iter_frames, probe
from reelserve.media.frames import fit_cover, resample_indices
from reelserve.settings import Settings
from reelserve.tasks import geometry
from reelserve.tasks.models import Task
from reelserve.worker.failures import TaskFailure
from reelserve.worker.jobs import Exempt, _decode, _image_bytes, derive_seed
from reelserve.worker.pipeline import RenderPlan

GET_VIDEO_FAILED = "Get video info failed"
NOT_A_VIDEO = "The source video could not be decoded; send an MP4, WebM or MOV video"
UNSUPPORTED_SIZE = "Unsupported width or height. Please adjust the size and try again."
MAX_SIDE = 4096
"""Largest source side kept as is (without `aspectRatio` the output keeps the source size)."""


async def _video_bytes(
    source: dict[str, Any], settings: Settings, blobs: BlobStore, exempt: Exempt
) -> bytes:
    """The source's bytes; a failure says why (too large, unreachable) in the failMsg."""
    limit = settings.source_max_bytes
    too_large = f"{GET_VIDEO_FAILED}: the source video is larger than {limit / 2**20:g} MB"
    try:
        data = await _image_bytes(source, settings, blobs, exempt)
    except TaskFailure as failure:
        if "larger than" in failure.detail:
            msg = too_large
        else:
            reason = failure.fail_msg.partition(": ")[2] or failure.detail or "unreadable"
            msg = f"{GET_VIDEO_FAILED}: {reason}"
        raise TaskFailure(msg, failure.fail_code, failure.detail) from None
    if len(data) > limit:
        raise TaskFailure(too_large, detail=f"{len(data)} bytes")
    return data


def _source_frames(
    path: Path, max_seconds: float, size: tuple[int, int] | None
) -> tuple[list[Frame], int, int]:
    """The output's frames taken from the source (shared objects where repeated), and the size.

    The output has round(24 x min(max_seconds, source length)) frames, each showing
    the source frame at the same time (nearest neighbour).
    """
    try:
        info = probe(path)
    except VideoFormatError as exc:
        raise TaskFailure(NOT_A_VIDEO, detail=str(exc)) from None
    if is_still_image(path):
        raise TaskFailure(NOT_A_VIDEO, detail="the file is a still image")
    if size is not None:
        width, height = size
    else:
        width, height = info.width // 2 * 2, info.height // 2 * 2
        if width < 2 or height < 2 or width > MAX_SIDE or height > MAX_SIDE:
            raise TaskFailure(UNSUPPORTED_SIZE, detail=f"source is {info.width}x{info.height}")
    fps = info.fps if info.fps > 0 else float(geometry.FPS)
    used = max(1, min(info.frame_count, math.ceil(max_seconds * fps - 1e-6)))
    wanted = max(1, round(geometry.FPS * used / fps))
    indices = resample_indices(used, wanted)
    needed = set(indices)
    kept: dict[int, Frame] = {}
    try:
        for index, frame in enumerate(iter_frames(path, max_frames=used)):
            if index in needed:
                if size is not None:
                    kept[index] = fit_cover(frame, width, height)
                else:
                    kept[index] = frame[:height, :width].copy()
    except VideoFormatError as exc:
        if not kept:
            raise TaskFailure(NOT_A_VIDEO, detail=str(exc)) from None
    if not kept:
        raise TaskFailure(NOT_A_VIDEO, detail="the video has no frames")
    if len(kept) < len(needed):
        # The container promised more frames than it holds: hold the last one decoded.
        have = sorted(kept)
        indices = [have[max(0, bisect.bisect_right(have, i) - 1)] for i in indices]
    return [kept[i] for i in indices], width, height


async def plan_video_to_video(
    task: Task, settings: Settings, blobs: BlobStore, out_dir: Path, exempt: Exempt = ()
) -> RenderPlan:
    """The render plan of a video_to_video task (Aleph or market)."""
    p = task.params
    data = await _video_bytes(p["video"], settings, blobs, exempt)
    source_path = out_dir / "source-video"
    await asyncio.to_thread(source_path.write_bytes, data)
    size = tuple(p["size"]) if p.get("size") else None
    frames, width, height = await asyncio.to_thread(
        _source_frames,
        source_path,
        float(p["max_seconds"]),
        (int(size[0]), int(size[1])) if size else None,
    )
    reference: Frame | None = None
    reference_digest = ""
    if p.get("reference_image"):
        reference = await _decode(await _image_bytes(p["reference_image"], settings, blobs, exempt))
        reference_digest = hashlib.sha256(reference.tobytes()).hexdigest()
    seed = p.get("seed")
    if seed is None:
        seed = derive_seed(
            op=Capability.VIDEO_TO_VIDEO.value,
            prompt=p["prompt"],
            w=width,
            h=height,
            n=len(frames),
            video=hashlib.sha256(data).hexdigest(),
            ref=reference_digest,
        )
    request = EngineRequest(
        operation=Capability.VIDEO_TO_VIDEO,
        prompt=p["prompt"],
        width=width,
        height=height,
        num_frames=len(frames),
        fps=geometry.FPS,
        seed=int(seed),
        video=frames,
        reference_image=reference,
    )
    return RenderPlan(
        request=request,
        out_dir=out_dir,
        watermark=p.get("watermark"),
        x264_preset=settings.x264_preset,
    )
