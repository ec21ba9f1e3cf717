"""Reading videos (PyAV) and images (Pillow) into RGB frames.

Inputs come from clients, so every decoder failure becomes one of two
exceptions (`VideoFormatError`, `ImageFormatError`) that the caller can map to
"the input was at fault" (failCode 400) instead of an internal error.
"""

from __future__ import annotations

import io
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image, ImageOps

from reelserve.engines.base import Frame

# Formats KIE accepts for imageUrl. Pillow's JPEG opener also yields its MPO
# variant (many camera JPEGs), which decodes as the primary picture.
_IMAGE_FORMATS = ("JPEG", "PNG", "WEBP")


class VideoFormatError(Exception):
    """The file is not a readable video."""


class ImageFormatError(Exception):
    """The data is not a readable JPEG, PNG or WebP image."""


@dataclass(frozen=True)
class VideoInfo:
    """What `probe` learns about a video's first video stream."""

    width: int
    height: int
    fps: float
    frame_count: int
    codec: str
    pix_fmt: str
    duration_s: float


@dataclass
class LastFrame:
    """The final frame of a video and how many frames were decoded to reach it."""

    frame: Frame
    decoded_frames: int


def _open(path: Path) -> tuple[Any, Any]:
    try:
        container = av.open(str(path))
    except av.FFmpegError as exc:
        raise VideoFormatError(f"cannot open video: {exc}") from exc
    if not container.streams.video:
        container.close()
        raise VideoFormatError("the file has no video stream")
    return container, container.streams.video[0]


def probe(path: Path) -> VideoInfo:
    """Size, rate, exact frame count, codec and duration of the video at `path`.

    The frame count comes from the container index when it has one (MP4) and
    otherwise from demuxing every packet (no decoding), so it is always exact.
    """
    container, stream = _open(path)
    try:
        ctx = stream.codec_context
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 0.0
        frame_count = int(stream.frames or 0)
        if frame_count <= 0:
            frame_count = sum(1 for p in container.demux(stream) if p.size > 0)
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / av.time_base
        else:
            duration = frame_count / fps if fps else 0.0
        return VideoInfo(
            width=int(ctx.width),
            height=int(ctx.height),
            fps=fps,
            frame_count=frame_count,
            codec=str(ctx.name),
            pix_fmt=str(ctx.pix_fmt or ""),
            duration_s=duration,
        )
    except av.FFmpegError as exc:
        raise VideoFormatError(f"cannot read video: {exc}") from exc
    finally:
        container.close()


def iter_frames(path: Path, *, max_frames: int | None = None) -> Iterator[Frame]:
    """Decoded RGB24 frames of the first video stream, one at a time.

    Only one frame is alive at a time, so long or large videos do not sit in
    memory. Stops after `max_frames` when given.

    >>> first_second = list(iter_frames(Path("in.mp4"), max_frames=24))
    """
    if max_frames is not None and max_frames <= 0:
        return
    container, stream = _open(path)
    stream.thread_type = "AUTO"
    try:
        for count, frame in enumerate(container.decode(stream), start=1):
            yield frame.to_ndarray(format="rgb24")
            if max_frames is not None and count >= max_frames:
                return
    except av.FFmpegError as exc:
        raise VideoFormatError(f"cannot decode video: {exc}") from exc
    finally:
        container.close()


def read_last_frame(path: Path) -> LastFrame:
    """The last frame of the video, decoding only its last GOP.

    Seeks backward from the end to the last keyframe and decodes from there,
    so the cost is bounded by the GOP length, not the video length. Falls back
    to decoding everything if the container cannot seek.
    """
    container, stream = _open(path)
    try:
        result = _decode_tail(container, stream)
    except av.FFmpegError:
        result = None
    finally:
        container.close()
    if result is not None:
        return result
    last: Frame | None = None
    count = 0
    for last in iter_frames(path):  # noqa: B007 - only the final value is wanted
        count += 1
    if last is None:
        raise VideoFormatError("the video has no frames")
    return LastFrame(frame=last, decoded_frames=count)


def read_last_frames(path: Path, count: int) -> list[Frame]:
    """The video's last `count` frames (fewer if it is shorter), oldest first.

    Seeks to a keyframe about `count` frames before the end and decodes from
    there; if that lands too late (or the container cannot seek) it decodes
    the whole video, keeping only a window of `count` frames.
    """
    window: deque[Frame] = deque(maxlen=max(1, count))
    info = probe(path)
    container, stream = _open(path)
    try:
        if info.fps > 0 and stream.time_base is not None and info.frame_count > count:
            start = stream.start_time or 0
            seconds = max(0.0, (info.frame_count - count - 1) / info.fps)
            container.seek(start + int(seconds / stream.time_base), stream=stream, backward=True)
            stream.thread_type = "AUTO"
            decoded = 0
            for frame in container.decode(stream):
                window.append(frame.to_ndarray(format="rgb24"))
                decoded += 1
            if decoded >= count:
                return list(window)
    except av.FFmpegError:
        pass
    finally:
        container.close()
    window.clear()
    for frame in iter_frames(path):
        window.append(frame)
    if not window:
        raise VideoFormatError("the video has no frames")
    return list(window)


def _decode_tail(container: Any, stream: Any) -> LastFrame | None:
    # Aim past the end: a backward seek lands on the last keyframe at or before
    # the target, i.e. the start of the final GOP.
    start = stream.start_time or 0
    end = start + stream.duration if stream.duration else 2**62
    container.seek(end, stream=stream, backward=True, any_frame=False)
    stream.thread_type = "AUTO"
    last = None
    count = 0
    for frame in container.decode(stream):
        last = frame
        count += 1
    if last is None:
        return None
    return LastFrame(frame=last.to_ndarray(format="rgb24"), decoded_frames=count)


def decode_image(data: bytes, *, max_pixels: int | None = None) -> Frame:
    """Decode JPEG, PNG or WebP bytes to an upright RGB uint8 frame.

    EXIF orientation is applied; transparency is composited over white;
    palette, greyscale, 16-bit and CMYK images are converted. Anything else,
    corrupt data, or more than `max_pixels` pixels (default: Pillow's
    decompression-bomb limit) raises `ImageFormatError`.

    >>> decode_image(Path("photo.jpg").read_bytes()).shape
    (1080, 1920, 3)
    """
    limit = Image.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
    try:
        # formats= keeps Pillow from even trying its other (rarer, riskier) parsers.
        with Image.open(io.BytesIO(data), formats=_IMAGE_FORMATS) as image:
            # Checked on the header, before any pixel is decoded. Done here rather
            # than via Pillow's warning, which needs process-global warning filters.
            if limit is not None and image.width * image.height > limit:
                raise ImageFormatError(
                    f"image of {image.width}x{image.height} pixels exceeds the limit of {limit}"
                )
            image.load()
            upright = ImageOps.exif_transpose(image)
            return _to_rgb(upright)
    except ImageFormatError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageFormatError(f"not a readable JPEG, PNG or WebP image: {exc}") from exc


def _to_rgb(image: Image.Image) -> Frame:
    if image.mode.startswith("I"):
        # 16-bit greyscale PNG: Pillow's convert("RGB") would clip at 255, not scale.
        wide = np.asarray(image, dtype=np.int64)
        if image.mode.startswith("I;16") or (wide.size and int(wide.max()) > 255):
            wide = wide >> 8
        image = Image.fromarray(np.clip(wide, 0, 255).astype(np.uint8))
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    rgb = image.convert("RGB")
    return np.asarray(rgb, dtype=np.uint8).copy()


def is_still_image(path: Path) -> bool:
    """True when FFmpeg reads the file as a still image (PNG, JPEG, ...), not as a video.

    FFmpeg opens pictures as one-frame "videos" through its image demuxers;
    a client that sends one as a video made a mistake worth telling them.
    """
    try:
        container = av.open(str(path))
    except av.FFmpegError:
        return False
    try:
        name = str(container.format.name)
    finally:
        container.close()
    return name.endswith("_pipe") or name.startswith("image2")
