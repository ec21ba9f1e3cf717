"""Audio files: MP3 (PyAV/libmp3lame), WAV (16-bit PCM via `wave`), raw PCM; decoding any.

Samples are the engines' `Audio`: float32 in [-1, 1], shape (n, channels).
Writing is atomic like `encode.Mp4Writer` (temporary name, then rename).
Decoding goes through FFmpeg, so any container/codec it reads (MP3, WAV,
AAC/M4A, Ogg/Opus, FLAC, a video's soundtrack) comes back as float32 at
its own rate, or resampled to the one asked for.
"""

from __future__ import annotations

import io
import os
import wave
from pathlib import Path
from typing import Any, NamedTuple

import av
import numpy as np

from reelserve.engines.base import Audio, Samples
from reelserve.media.atomic import temp_path

AUDIO_FORMATS = ("mp3", "wav", "pcm")
CONTENT_TYPES = {"mp3": "audio/mpeg", "wav": "audio/wav", "pcm": "audio/L16"}
EXTENSIONS = {"mp3": ".mp3", "wav": ".wav", "pcm": ".pcm"}
MP3_BIT_RATE = 192_000
# The rates MPEG-1/2/2.5 layer III can carry; others are resampled to 44.1 kHz for MP3.
_MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)


class AudioFormatError(Exception):
    """The data is not audio FFmpeg can read (or has no audio stream)."""


class AudioInfo(NamedTuple):
    seconds: float
    sample_rate: int
    channels: int
    codec: str


def audio_format(fmt: str) -> str:
    """The canonical name of `fmt` ("MP3" is "mp3"); ValueError when unknown."""
    name = fmt.strip().lower()
    if name not in AUDIO_FORMATS:
        raise ValueError(
            f"unknown audio format {fmt!r}; expected one of {', '.join(AUDIO_FORMATS)}"
        )
    return name


def encode_audio(audio: Audio, fmt: str) -> bytes:
    """The file bytes of `audio` as "mp3" (192 kb/s), "wav" (16-bit) or "pcm" (raw s16le)."""
    name = audio_format(fmt)
    _check(audio)
    if name == "pcm":
        return _int16(audio.samples).tobytes()
    buffer = io.BytesIO()
    if name == "wav":
        _write_wav(buffer, audio)
    else:
        _write_mp3(buffer, audio)
    return buffer.getvalue()


def write_audio(path: Path, audio: Audio, fmt: str) -> None:
    """Write `audio` as `fmt` at `path`, atomically."""
    data = encode_audio(audio, fmt)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _check(audio: Audio) -> None:
    samples = audio.samples
    if samples.ndim != 2 or samples.shape[1] not in (1, 2) or samples.dtype != np.float32:
        raise ValueError(f"expected float32 samples (n, 1|2), got {samples.dtype} {samples.shape}")
    if audio.sample_rate <= 0:
        raise ValueError(f"invalid sample rate {audio.sample_rate}")


def _int16(samples: Samples) -> np.ndarray[Any, np.dtype[np.int16]]:
    scaled = np.clip(np.round(samples.astype(np.float64) * 32767.0), -32768, 32767)
    return scaled.astype("<i2")


def _write_wav(target: io.BytesIO, audio: Audio) -> None:
    with wave.open(target, "wb") as out:
        out.setnchannels(audio.samples.shape[1])
        out.setsampwidth(2)
        out.setframerate(audio.sample_rate)
        out.writeframes(_int16(audio.samples).tobytes())


def _write_mp3(target: io.BytesIO, audio: Audio) -> None:
    if audio.sample_rate not in _MP3_RATES:
        audio = resample(audio, 44100)
    layout = "mono" if audio.samples.shape[1] == 1 else "stereo"
    container: Any = av.open(target, mode="w", format="mp3")
    try:
        stream: Any = container.add_stream("libmp3lame", rate=audio.sample_rate, layout=layout)
        stream.bit_rate = MP3_BIT_RATE
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(audio.samples.T), format="fltp", layout=layout
        )
        frame.sample_rate = audio.sample_rate
        frame.pts = 0
        # PyAV cuts the one big frame into the encoder's 1152-sample frames.
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    finally:
        container.close()


def resample(audio: Audio, rate: int, channels: int | None = None) -> Audio:
    """`audio` at `rate` Hz (and `channels` 1 or 2, when given) through FFmpeg's resampler."""
    want = channels or audio.samples.shape[1]
    if audio.samples.shape[1] not in (1, 2) or want not in (1, 2):
        raise ValueError(f"only mono and stereo are supported, got {audio.samples.shape[1]}")
    if rate == audio.sample_rate and want == audio.samples.shape[1]:
        return audio
    layout_in = "mono" if audio.samples.shape[1] == 1 else "stereo"
    layout_out = "mono" if want == 1 else "stereo"
    frame = av.AudioFrame.from_ndarray(
        np.ascontiguousarray(audio.samples.T), format="fltp", layout=layout_in
    )
    frame.sample_rate = audio.sample_rate
    frame.pts = 0
    resampler = av.AudioResampler(format="fltp", layout=layout_out, rate=rate)
    parts = [out.to_ndarray() for out in resampler.resample(frame)]
    parts += [out.to_ndarray() for out in resampler.resample(None)]
    planar = np.concatenate(parts, axis=1) if parts else np.zeros((want, 0), np.float32)
    return Audio(np.ascontiguousarray(planar.T, dtype=np.float32), rate)


def decode_audio(
    source: Path | str | bytes, *, sample_rate: int | None = None, channels: int | None = None
) -> Audio:
    """The first audio stream of a file or of bytes, as float32 (n, channels).

    Kept at its own rate and channel count (more than two are downmixed to
    stereo) unless `sample_rate` / `channels` ask otherwise.
    """
    handle: Any = io.BytesIO(source) if isinstance(source, bytes) else str(source)
    try:
        container: Any = av.open(handle)
    except (av.error.FFmpegError, OSError) as exc:
        raise AudioFormatError(f"cannot read audio: {exc}") from exc
    with container:
        if not container.streams.audio:
            raise AudioFormatError("no audio stream")
        stream = container.streams.audio[0]
        rate = sample_rate or stream.codec_context.sample_rate
        count = channels or min(2, stream.codec_context.channels)
        layout = "mono" if count == 1 else "stereo"
        resampler = av.AudioResampler(format="flt", layout=layout, rate=rate)
        parts: list[np.ndarray[Any, Any]] = []
        try:
            for frame in container.decode(stream):
                frame.pts = None  # let the resampler count samples; some files have gaps
                parts += [out.to_ndarray().reshape(-1, count) for out in resampler.resample(frame)]
        except av.error.FFmpegError as exc:
            raise AudioFormatError(f"cannot decode audio: {exc}") from exc
        parts += [out.to_ndarray().reshape(-1, count) for out in resampler.resample(None)]
    samples = np.concatenate(parts) if parts else np.zeros((0, count), np.float32)
    return Audio(np.ascontiguousarray(samples, dtype=np.float32), rate)


def probe_audio(path: Path | str) -> AudioInfo:
    """(seconds, sample_rate, channels, codec) of the first audio stream, from the container."""
    try:
        container: Any = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        raise AudioFormatError(f"cannot read audio: {exc}") from exc
    with container:
        if not container.streams.audio:
            raise AudioFormatError("no audio stream")
        stream = container.streams.audio[0]
        if stream.duration is not None and stream.time_base is not None:
            seconds = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            seconds = container.duration / av.time_base
        else:
            seconds = 0.0
        codec = stream.codec_context
        # canonical_name: "mp3", not the decoder's "mp3float".
        name = str(getattr(codec.codec, "canonical_name", codec.name))
        return AudioInfo(seconds, int(codec.sample_rate), int(codec.channels), name)
