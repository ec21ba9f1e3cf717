"""Mp4Writer and write_png against real files, read back with PyAV."""

from __future__ import annotations

import struct
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from reelserve.engines.base import Audio
from reelserve.media.encode import Mp4Writer, write_png

W, H = 64, 48


def moving_frames(count: int, width: int = W, height: int = H) -> list[np.ndarray]:
    """Frames with a moving bar, so every frame differs."""
    frames = []
    for i in range(count):
        frame = np.full((height, width, 3), (i * 7) % 256, dtype=np.uint8)
        x = (i * 3) % width
        frame[:, x : x + 8] = (255, 40, 40)
        frames.append(frame)
    return frames


def encode(path: Path, frames: list[np.ndarray], *, fps: int = 24, gop: int = 48) -> None:
    height, width = frames[0].shape[:2]
    with Mp4Writer(path, width, height, fps, gop=gop) as writer:
        for frame in frames:
            writer.write(frame)


def top_level_boxes(path: Path) -> list[str]:
    data = path.read_bytes()
    boxes, offset = [], 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        boxes.append(kind.decode("latin-1"))
        if size == 0:
            break
        offset += size
    return boxes


def keyframe_gaps(path: Path) -> list[int]:
    """Lengths of the GOPs, in frames, from the packets' keyframe flags (presentation order)."""
    with av.open(str(path)) as container:
        packets = [p for p in container.demux(container.streams.video[0]) if p.size > 0]
    flags = [p.is_keyframe for p in sorted(packets, key=lambda p: p.pts or 0)]
    starts = [i for i, key in enumerate(flags) if key]
    assert starts[0] == 0
    return [b - a for a, b in zip(starts, [*starts[1:], len(flags)], strict=True)]


def test_encoded_file_is_h264_yuv420p_at_24_fps_with_the_exact_frame_count(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    encode(path, moving_frames(30))
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert stream.average_rate == 24
        assert (stream.codec_context.width, stream.codec_context.height) == (W, H)
        times = [frame.time for frame in container.decode(stream)]
    assert len(times) == 30
    assert times == pytest.approx([i / 24 for i in range(30)])


def test_moov_atom_comes_before_mdat_so_playback_can_start_early(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    encode(path, moving_frames(10))
    boxes = top_level_boxes(path)
    assert boxes[0] == "ftyp"
    assert boxes.index("moov") < boxes.index("mdat")


def test_no_gop_is_longer_than_48_frames(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    rng = np.random.default_rng(0)
    # Noise cuts every 20 frames tempt x264's scenecut into extra keyframes: allowed.
    frames = moving_frames(150)
    for i in range(0, 150, 20):
        frames[i] = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    encode(path, frames)
    gaps = keyframe_gaps(path)
    assert sum(gaps) == 150
    assert max(gaps) <= 48


def test_a_smaller_gop_is_honoured(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    encode(path, moving_frames(60), gop=12)
    assert max(keyframe_gaps(path)) <= 12


def test_frames_written_counts_the_accepted_frames(tmp_path: Path) -> None:
    with Mp4Writer(tmp_path / "out.mp4", W, H) as writer:
        for frame in moving_frames(5):
            writer.write(frame)
        assert writer.frames_written == 5


def test_an_exception_inside_the_with_block_leaves_no_file_behind(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError), Mp4Writer(path, W, H) as writer:
        writer.write(moving_frames(1)[0])
        raise RuntimeError("engine crashed")
    assert list(tmp_path.iterdir()) == []


def test_the_file_appears_only_when_the_writer_closes(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    with Mp4Writer(path, W, H) as writer:
        writer.write(moving_frames(1)[0])
        assert not path.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]


@pytest.mark.parametrize(
    "frame",
    [
        np.zeros((H, W + 2, 3), np.uint8),
        np.zeros((H, W, 4), np.uint8),
        np.zeros((H, W, 3), np.float32),
    ],
    ids=["wrong-size", "rgba", "float"],
)
def test_frames_of_the_wrong_shape_or_type_are_rejected(tmp_path: Path, frame: np.ndarray) -> None:
    with Mp4Writer(tmp_path / "out.mp4", W, H) as writer:
        with pytest.raises(ValueError):
            writer.write(frame)
        writer.write(moving_frames(1)[0])


def test_odd_sizes_are_rejected_because_yuv420p_needs_even_ones(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        Mp4Writer(tmp_path / "out.mp4", 63, 48)
    assert list(tmp_path.iterdir()) == []


def test_closing_without_frames_raises_and_leaves_nothing(tmp_path: Path) -> None:
    writer = Mp4Writer(tmp_path / "out.mp4", W, H)
    with pytest.raises(ValueError):
        writer.close()
    assert list(tmp_path.iterdir()) == []


def test_another_frame_rate_gives_a_video_of_frames_over_fps_seconds(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    encode(path, moving_frames(12), fps=12)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.average_rate == 12
        assert stream.duration is not None and stream.time_base is not None
        assert float(stream.duration * stream.time_base) == pytest.approx(1.0)


def test_png_cover_round_trips_exactly(tmp_path: Path) -> None:
    frame = moving_frames(3)[2]
    path = tmp_path / "cover.png"
    write_png(path, frame)
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert np.array_equal(np.asarray(image.convert("RGB")), frame)
    assert [p.name for p in tmp_path.iterdir()] == ["cover.png"]


def tone(seconds: float, rate: int = 44100, channels: int = 1) -> Audio:
    t = np.arange(round(seconds * rate)) / rate
    wave = (0.4 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    return Audio(np.repeat(wave[:, None], channels, axis=1), rate)


def encode_with_audio(path: Path, frames: int, audio: Audio, fps: int = 24) -> None:
    with Mp4Writer(path, W, H, fps, audio=audio) as writer:
        for frame in moving_frames(frames):
            writer.write(frame)


@pytest.mark.parametrize(
    ("seconds", "rate", "channels"),
    [(1.25, 44100, 1), (3.0, 48000, 2), (0.4, 22050, 1)],
    ids=["exact", "longer-stereo", "shorter-resampled"],
)
def test_with_audio_the_mp4_has_h264_and_an_aac_lc_stereo_track_as_long_as_the_video(
    tmp_path: Path, seconds: float, rate: int, channels: int
) -> None:
    path = tmp_path / "sound.mp4"
    encode_with_audio(path, 30, tone(seconds, rate, channels))
    with av.open(str(path)) as container:
        assert len(container.streams.video) == 1 and len(container.streams.audio) == 1
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert video.codec_context.name == "h264" and video.codec_context.pix_fmt == "yuv420p"
        assert audio.codec_context.name == "aac" and audio.codec_context.profile == "LC"
        assert audio.codec_context.channels == 2
        assert audio.sample_rate in (44100, 48000)
        video_s = float(video.duration * video.time_base)
        audio_s = float(audio.duration * audio.time_base)
        assert video_s == pytest.approx(30 / 24)
        assert abs(audio_s - video_s) <= 1 / 24
        decoded = sum(frame.samples for frame in container.decode(audio))
    # AAC frames hold 1024 samples, so the decoder may return up to one more frame.
    assert abs(decoded / audio.sample_rate - video_s) <= 1 / 24
    assert top_level_boxes(path).index("moov") < top_level_boxes(path).index("mdat")


def test_the_audio_track_carries_the_clip_and_then_silence(tmp_path: Path) -> None:
    path = tmp_path / "sound.mp4"
    encode_with_audio(path, 48, tone(0.5))  # 2 s of video, 0.5 s of tone
    with av.open(str(path)) as container:
        samples = np.concatenate(
            [f.to_ndarray()[0] for f in container.decode(container.streams.audio[0])]
        )
    rate = 44100
    assert np.abs(samples[int(0.1 * rate) : int(0.4 * rate)]).mean() > 0.2
    assert np.abs(samples[int(0.8 * rate) : int(1.9 * rate)]).max() < 0.01


def test_audio_and_video_packets_are_interleaved(tmp_path: Path) -> None:
    path = tmp_path / "sound.mp4"
    encode_with_audio(path, 96, tone(4.0))
    with av.open(str(path)) as container:
        kinds = [p.stream.type for p in container.demux() if p.size > 0]
    last_video = max(i for i, kind in enumerate(kinds) if kind == "video")
    first_audio = kinds.index("audio")
    assert first_audio < last_video / 2


def test_without_audio_the_mp4_has_no_audio_stream(tmp_path: Path) -> None:
    path = tmp_path / "silent.mp4"
    encode(path, moving_frames(12))
    with av.open(str(path)) as container:
        assert len(container.streams.audio) == 0
        assert len(container.streams.video) == 1
