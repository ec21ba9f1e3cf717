"""Writing frames to H.264 MP4 (PyAV/libx264), with an optional AAC soundtrack, and covers to PNG.

Files appear atomically: everything is written under a temporary name in the
target's directory and renamed on success, so a reader (or the blob store)
never sees a half-written file at the final path. Missing parent directories
are created.
"""

from __future__ import annotations

import contextlib
import os
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

import av
import numpy as np
from PIL import Image

from reelserve.engines.base import Audio, Frame
from reelserve.media.atomic import temp_path
from reelserve.media.audio import resample

AAC_BIT_RATE = 128_000
# AAC-LC at the two rates every browser decodes; other rates are resampled to 48 kHz.
_AAC_RATES = (44100, 48000)


class Mp4Writer:
    """Streams RGB frames into an H.264 yuv420p MP4 with the index up front (faststart).

    Every frame gets pts = index in time base 1/fps, so the file has exactly
    `frames_written` frames at `fps`. x264 may add keyframes on scene cuts, but
    no GOP is longer than `gop` frames (players can seek cheaply and
    `decode.read_last_frame` decodes at most one GOP).

    With `audio`, the file also gets an AAC-LC stereo track (44.1 or 48 kHz,
    128 kb/s) fed as the frames arrive, so the two streams interleave; it is
    cut or padded with silence to exactly the video's length
    (frames_written / fps) at `close`. Without it, the file is the same as
    before audio support existed, byte for byte.

    >>> with Mp4Writer(Path("out.mp4"), 1280, 720) as writer:
    ...     for frame in frames:
    ...         writer.write(frame)
    """

    def __init__(
        self,
        path: Path,
        width: int,
        height: int,
        fps: int = 24,
        *,
        preset: str = "veryfast",
        crf: int = 23,
        gop: int = 48,
        audio: Audio | None = None,
    ) -> None:
        # yuv420p subsamples chroma 2x2, so libx264 rejects odd sizes.
        if width <= 0 or height <= 0 or width % 2 or height % 2:
            raise ValueError(f"size must be positive and even, got {width}x{height}")
        if fps <= 0 or gop <= 0:
            raise ValueError(f"fps and gop must be positive, got fps={fps} gop={gop}")
        self.path = Path(path)
        self.width = width
        self.height = height
        self.fps = fps
        self._frames = 0
        self._closed = False
        self._tmp = temp_path(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # faststart rewrites the file at close so the moov atom precedes mdat:
        # browsers can start playing before the whole file has arrived.
        self._container: Any = av.open(
            str(self._tmp), mode="w", format="mp4", options={"movflags": "+faststart"}
        )
        try:
            stream: Any = self._container.add_stream("libx264", rate=fps)
            stream.width = width
            stream.height = height
            stream.pix_fmt = "yuv420p"
            # The muxer replaces the stream's time base with its own timescale at
            # the first packet, so frames carry this one, kept separately.
            self._time_base = Fraction(1, fps)
            stream.time_base = self._time_base
            stream.codec_context.gop_size = gop
            # gop_size alone is advisory for x264; keyint is the hard cap. A
            # scenecut still adds keyframes inside a GOP, which only shortens GOPs.
            stream.options = {
                "preset": preset,
                "crf": str(crf),
                "x264-params": f"keyint={gop}:min-keyint={min(gop, max(1, fps))}",
            }
            self._stream = stream
            self._audio = _AudioTrack(self._container, audio, fps) if audio is not None else None
        except Exception:
            self._discard()
            raise

    @property
    def frames_written(self) -> int:
        """How many frames have been accepted so far."""
        return self._frames

    def write(self, frame: Frame) -> None:
        """Encode one RGB uint8 frame of shape (height, width, 3)."""
        if self._closed:
            raise ValueError("writer is closed")
        if frame.dtype != np.uint8 or frame.shape != (self.height, self.width, 3):
            raise ValueError(
                f"expected a uint8 frame of shape {(self.height, self.width, 3)}, "
                f"got {frame.dtype} {frame.shape}"
            )
        video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
        video_frame.pts = self._frames
        video_frame.time_base = self._time_base
        for packet in self._stream.encode(video_frame):
            self._container.mux(packet)
        self._frames += 1
        if self._audio is not None:
            self._audio.feed_until(self._frames)

    def close(self) -> None:
        """Flush the encoder, finish the file and move it to `path`.

        Raises ValueError if no frame was written (an empty MP4 is never useful).
        """
        if self._closed:
            return
        if self._frames == 0:
            self._discard()
            raise ValueError("no frames were written")
        self._closed = True
        try:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
            if self._audio is not None:
                self._audio.finish(self._frames)
            self._container.close()
        except BaseException:
            self._tmp.unlink(missing_ok=True)
            raise
        os.replace(self._tmp, self.path)

    def abort(self) -> None:
        """Stop without producing a file (the partial output is deleted)."""
        if not self._closed:
            self._discard()

    def _discard(self) -> None:
        self._closed = True
        # The file is being thrown away, so a failure to finish it does not matter.
        with contextlib.suppress(Exception):
            self._container.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> Mp4Writer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class _AudioTrack:
    """The AAC stream of an `Mp4Writer`: samples go in as the video advances."""

    def __init__(self, container: Any, audio: Audio, fps: int) -> None:
        rate = audio.sample_rate if audio.sample_rate in _AAC_RATES else 48000
        if audio.samples.shape[1] == 1:
            # Copied to both sides at full level (FFmpeg's mono upmix would lower it 3 dB).
            audio = Audio(np.repeat(audio.samples, 2, axis=1), audio.sample_rate)
        self._samples = np.ascontiguousarray(resample(audio, rate, channels=2).samples.T)
        self._rate = rate
        self._fps = fps
        self._sent = 0
        stream: Any = container.add_stream("aac", rate=rate, layout="stereo")
        stream.bit_rate = AAC_BIT_RATE
        stream.time_base = Fraction(1, rate)
        self._stream = stream
        self._container = container

    def feed_until(self, frames: int) -> None:
        """Encode the samples up to the end of video frame `frames` (silence past the clip)."""
        end = round(frames * self._rate / self._fps)
        if end <= self._sent:
            return
        chunk = np.zeros((2, end - self._sent), dtype=np.float32)
        have = self._samples[:, self._sent : end]
        chunk[:, : have.shape[1]] = have
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
        frame.sample_rate = self._rate
        frame.pts = self._sent
        frame.time_base = Fraction(1, self._rate)
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self._sent = end

    def finish(self, frames: int) -> None:
        self.feed_until(frames)
        for packet in self._stream.encode(None):
            self._container.mux(packet)


def write_png(path: Path, frame: Frame) -> None:
    """Save an RGB frame as a PNG (the cover image), atomically like `Mp4Writer`."""
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"expected a uint8 (h, w, 3) frame, got {frame.dtype} {frame.shape}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    try:
        # compress_level 6 is Pillow's default balance; covers are written once per task.
        Image.fromarray(np.ascontiguousarray(frame)).save(tmp, format="PNG", compress_level=6)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
