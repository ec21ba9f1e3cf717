"""Turning a claimed task into a render plan: fetch and fit inputs, decide the geometry."""

from __future__ import annotations

import asyncio
import hashlib
import json
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from reelserve.blobs.base import BlobNotFound, BlobStore
from reelserve.engines.base import Capability, EngineRequest, Frame
from reelserve.media.decode import (
    ImageFormatError,
    decode_image,
    read_last_frame,
    read_last_frames,
)
from reelserve.media.frames import fit_cover
from reelserve.settings import Settings
from reelserve.tasks import geometry
from reelserve.tasks.models import Task
from reelserve.worker.failures import GET_IMAGE_FAILED, INCORRECT_IMAGE_FORMAT, TaskFailure
from reelserve.worker.pipeline import RenderPlan
from reelserve.worker.sources import read_source

Exempt = tuple[tuple[str, int], ...]
"""Addresses the URL guard lets through (tests stand a loopback server in for a public one)."""


def derive_seed(**parts: Any) -> int:
    """A seed that depends only on what was asked, so the same request gives the same video."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return int.from_bytes(hashlib.sha256(blob).digest()[:4], "big") & 0x7FFFFFFF


async def _image_bytes(
    image: dict[str, Any], settings: Settings, blobs: BlobStore, exempt: Exempt
) -> bytes:
    if "blob" in image:
        try:
            return await blobs.get_bytes(image["blob"])
        except BlobNotFound:
            raise TaskFailure(GET_IMAGE_FAILED, detail="uploaded image is gone") from None
    return await read_source(image["url"], settings, blobs, exempt=exempt)


async def _decode(data: bytes) -> Frame:
    try:
        return await asyncio.to_thread(decode_image, data)
    except ImageFormatError as exc:
        raise TaskFailure(INCORRECT_IMAGE_FORMAT, detail=str(exc)) from None


def _fitted_tail(path: Path, count: int, width: int, height: int) -> list[Frame]:
    """The parent's last `count` frames fitted to the output size: an extension's context."""
    if count <= 1:
        return [fit_cover(read_last_frame(path).frame, width, height)]
    return [fit_cover(frame, width, height) for frame in read_last_frames(path, count)]


async def plan_runway(
    task: Task,
    settings: Settings,
    blobs: BlobStore,
    out_dir: Path,
    stack: AsyncExitStack,
    exempt: Exempt = (),
) -> RenderPlan:
    """The render plan of a Runway generate or extend task (inputs fetched, sizes decided)."""
    p = task.params
    operation = Capability(task.operation)
    image: Frame | None = None
    context: list[Frame] | None = None
    prefix_video: Path | None = None
    prefix_frames = 0
    digest = ""
    if operation is Capability.EXTEND:
        ratio = p["aspect_ratio"]
        width, height = geometry.output_size(ratio, p["quality"])
        num_frames = geometry.frame_count(geometry.EXTENSION_SECONDS)
        prefix_video = await stack.enter_async_context(blobs.local_path(p["parent_video_key"]))
        context = await asyncio.to_thread(
            _fitted_tail, prefix_video, settings.extend_context_frames, width, height
        )
        image = context[-1]
        prefix_frames = int(p["parent_frames"])
        digest = hashlib.sha256(image.tobytes()).hexdigest()
    else:
        num_frames = geometry.frame_count(int(p["duration"]))
        # Market tasks fix the size at submit (`size`); Runway ones derive it here.
        size = p.get("size")
        if p.get("image"):
            source = await _decode(await _image_bytes(p["image"], settings, blobs, exempt))
            ratio = geometry.nearest_ratio(source.shape[1], source.shape[0])
            width, height = size or geometry.output_size(ratio, p["quality"])
            image = await asyncio.to_thread(fit_cover, source, width, height)
            digest = hashlib.sha256(source.tobytes()).hexdigest()
        elif size:
            width, height = size
        else:
            width, height = geometry.output_size(p["aspect_ratio"], p["quality"])
    request = EngineRequest(
        operation=operation,
        prompt=p["prompt"],
        width=width,
        height=height,
        num_frames=num_frames,
        fps=geometry.FPS,
        seed=p["seed"]
        if p.get("seed") is not None
        else derive_seed(
            op=operation.value, prompt=p["prompt"], w=width, h=height, n=num_frames, img=digest
        ),
        image=image,
        context=context,
    )
    return RenderPlan(
        request=request,
        out_dir=out_dir,
        watermark=p.get("watermark"),
        prefix_video=prefix_video,
        prefix_frames=prefix_frames,
        x264_preset=settings.x264_preset,
    )


async def plan_task(
    task: Task,
    settings: Settings,
    blobs: BlobStore,
    out_dir: Path,
    stack: AsyncExitStack,
    exempt: Exempt = (),
) -> RenderPlan:
    """The render plan of any task, by operation: every dialect shares these planners."""
    if task.operation == Capability.VIDEO_TO_VIDEO.value:
        from reelserve.worker.restyle import plan_video_to_video

        return await plan_video_to_video(task, settings, blobs, out_dir, exempt)
    return await plan_runway(task, settings, blobs, out_dir, stack, exempt)
