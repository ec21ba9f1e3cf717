"""media.audio: MP3/WAV/PCM files written from samples and read back with FFmpeg."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from reelserve.engines.base import Audio
from reelserve.media.audio import (
    AudioFormatError,
    decode_audio,
    encode_audio,
    probe_audio,
    resample,
    write_audio,
)


def chirp(seconds: float, rate: int, channels: int = 1) -> Audio:
    t = np.arange(round(seconds * rate)) / rate
    left = 0.5 * np.sin(2 * np.pi * (200 + 300 * t) * t)
    right = 0.3 * np.sin(2 * np.pi * 660 * t)
    columns = [left, right][:channels]
    return Audio(np.stack(columns, axis=1).astype(np.float32), rate)


@pytest.mark.parametrize(("rate", "channels"), [(44100, 1), (48000, 2), (22050, 2), (16000, 1)])
def test_mp3_decodes_back_to_the_same_duration_rate_and_channels(
    tmp_path: Path, rate: int, channels: int
) -> None:
    path = tmp_path / "clip.mp3"
    write_audio(path, chirp(2.5, rate, channels), "mp3")
    info = probe_audio(path)
    assert info.codec == "mp3" and info.sample_rate == rate and info.channels == channels
    assert abs(info.seconds - 2.5) <= 0.05
    back = decode_audio(path)
    assert back.sample_rate == rate and back.samples.shape[1] == channels
    assert abs(back.seconds - 2.5) <= 0.05


def test_mp3_is_about_192_kbps(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp3"
    write_audio(path, chirp(4.0, 44100, 2), "mp3")
    kbps = path.stat().st_size * 8 / 4.0 / 1000
    assert 170 <= kbps <= 215


def test_an_mp3_at_an_unusual_rate_is_resampled_to_44100(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp3"
    write_audio(path, chirp(1.0, 37000), "mp3")
    assert probe_audio(path).sample_rate == 44100


def test_wav_is_16_bit_pcm_that_round_trips_within_one_step(tmp_path: Path) -> None:
    clip = chirp(1.5, 24000, 2)
    path = tmp_path / "clip.wav"
    write_audio(path, clip, "wav")
    with wave.open(str(path)) as handle:
        assert (handle.getsampwidth(), handle.getnchannels(), handle.getframerate()) == (
            2,
            2,
            24000,
        )
        assert handle.getnframes() == len(clip.samples)
    info = probe_audio(path)
    assert info.codec == "pcm_s16le" and info.seconds == pytest.approx(1.5)
    back = decode_audio(path.read_bytes())
    assert back.samples.shape == clip.samples.shape
    assert float(np.abs(back.samples - clip.samples).max()) <= 1.5 / 32767


def test_raw_pcm_is_little_endian_int16_interleaved() -> None:
    clip = Audio(np.asarray([[0.5, -0.5], [1.0, -1.0]], np.float32), 8000)
    data = encode_audio(clip, "pcm")
    assert np.frombuffer(data, "<i2").tolist() == [16384, -16384, 32767, -32767]


def test_decode_can_resample_and_change_the_channel_count(tmp_path: Path) -> None:
    path = tmp_path / "clip.wav"
    write_audio(path, chirp(2.0, 22050, 1), "wav")
    back = decode_audio(path, sample_rate=48000, channels=2)
    assert back.sample_rate == 48000 and back.samples.shape[1] == 2
    assert abs(len(back.samples) - 96000) <= 48
    assert back.samples.dtype == np.float32


def test_resample_keeps_the_duration() -> None:
    clip = chirp(1.0, 44100)
    out = resample(clip, 16000)
    assert out.sample_rate == 16000 and abs(len(out.samples) - 16000) <= 16


def test_writing_is_atomic_and_unknown_formats_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "clip.wav"
    write_audio(path, chirp(0.1, 8000), "WAV")
    assert path.exists() and [p.name for p in path.parent.iterdir()] == ["clip.wav"]
    with pytest.raises(ValueError, match="unknown audio format"):
        write_audio(tmp_path / "x.ogg", chirp(0.1, 8000), "ogg")


def test_samples_must_be_float32_mono_or_stereo() -> None:
    with pytest.raises(ValueError):
        encode_audio(Audio(np.zeros((10, 3), np.float32), 8000), "wav")
    with pytest.raises(ValueError):
        encode_audio(Audio(np.zeros((10, 1), np.float64), 8000), "wav")  # type: ignore[arg-type]


def test_garbage_is_an_audio_format_error(tmp_path: Path) -> None:
    with pytest.raises(AudioFormatError):
        decode_audio(b"definitely not audio" * 10)
    path = tmp_path / "junk.mp3"
    path.write_bytes(b"\x00" * 100)
    with pytest.raises(AudioFormatError):
        probe_audio(path)
