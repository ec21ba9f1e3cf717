"""probe, iter_frames, read_last_frame and decode_image on real files and bytes."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from reelserve.media.decode import (
    ImageFormatError,
    VideoFormatError,
    decode_image,
    iter_frames,
    probe,
    read_last_frame,
)
from reelserve.media.encode import Mp4Writer

W, H = 64, 48


def frame_at(i: int) -> np.ndarray:
    frame = np.full((H, W, 3), (i * 5) % 256, dtype=np.uint8)
    frame[:, (i * 2) % W : (i * 2) % W + 6] = (250, 30, 30)
    return frame


@pytest.fixture(scope="module")
def ten_seconds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 10 s, 24 fps, 240-frame MP4 written by Mp4Writer (GOP <= 48)."""
    path = tmp_path_factory.mktemp("video") / "ten.mp4"
    with Mp4Writer(path, W, H) as writer:
        for i in range(240):
            writer.write(frame_at(i))
    return path


def write_mkv(path: Path, count: int) -> None:
    """Matroska stores no frame count in its header, unlike MP4."""
    with av.open(str(path), "w", format="matroska") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.options = {"x264-params": "keyint=24"}
        for i in range(count):
            frame = av.VideoFrame.from_ndarray(frame_at(i), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 24)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def test_probe_reports_the_exact_geometry_rate_codec_and_frame_count(ten_seconds: Path) -> None:
    info = probe(ten_seconds)
    assert (info.width, info.height) == (W, H)
    assert info.fps == 24.0
    assert info.frame_count == 240
    assert info.codec == "h264"
    assert info.pix_fmt == "yuv420p"
    assert info.duration_s == pytest.approx(10.0)


def test_probe_counts_packets_when_the_container_has_no_frame_count(tmp_path: Path) -> None:
    path = tmp_path / "clip.mkv"
    write_mkv(path, 37)
    assert probe(path).frame_count == 37


def test_iter_frames_streams_every_frame_as_rgb(ten_seconds: Path) -> None:
    count = 0
    for frame in iter_frames(ten_seconds):
        assert frame.shape == (H, W, 3)
        assert frame.dtype == np.uint8
        count += 1
    assert count == 240


def test_iter_frames_stops_after_max_frames(ten_seconds: Path) -> None:
    assert len(list(iter_frames(ten_seconds, max_frames=24))) == 24
    assert list(iter_frames(ten_seconds, max_frames=0)) == []


def test_decoded_frames_are_close_to_what_was_encoded(ten_seconds: Path) -> None:
    first = next(iter_frames(ten_seconds))
    assert np.abs(first.astype(int) - frame_at(0)).mean() < 4


def test_last_frame_read_equals_the_last_frame_of_a_full_decode(ten_seconds: Path) -> None:
    *_, last = iter_frames(ten_seconds)
    assert np.array_equal(read_last_frame(ten_seconds).frame, last)


def test_last_frame_read_decodes_at_most_one_gop(ten_seconds: Path) -> None:
    result = read_last_frame(ten_seconds)
    assert 1 <= result.decoded_frames <= 48


def test_last_frame_read_works_on_matroska_too(tmp_path: Path) -> None:
    path = tmp_path / "clip.mkv"
    write_mkv(path, 60)
    *_, last = iter_frames(path)
    result = read_last_frame(path)
    assert np.array_equal(result.frame, last)
    assert result.decoded_frames <= 24


def test_a_file_that_is_not_a_video_is_a_video_format_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_bytes(b"this is not a video at all" * 100)
    with pytest.raises(VideoFormatError):
        probe(path)
    with pytest.raises(VideoFormatError):
        list(iter_frames(path))
    with pytest.raises(VideoFormatError):
        read_last_frame(path)


def encoded(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


GRADIENT = np.dstack(
    [
        np.tile(np.arange(32, dtype=np.uint8) * 8, (24, 1)),
        np.full((24, 32), 100, np.uint8),
        np.repeat(np.arange(24, dtype=np.uint8)[:, None] * 10, 32, axis=1),
    ]
)


@pytest.mark.parametrize(
    ("fmt", "params", "tolerance"),
    [("PNG", {}, 0), ("WEBP", {"lossless": True}, 0), ("JPEG", {"quality": 95}, 12)],
)
def test_png_jpeg_and_webp_decode_to_rgb(
    fmt: str, params: dict[str, object], tolerance: int
) -> None:
    frame = decode_image(encoded(Image.fromarray(GRADIENT), fmt, **params))
    assert frame.shape == (24, 32, 3)
    assert frame.dtype == np.uint8
    assert np.abs(frame.astype(int) - GRADIENT).mean() <= tolerance


def test_transparent_pixels_are_composited_over_white() -> None:
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[:, :4] = (255, 0, 0, 255)  # opaque red left half, fully transparent right half
    frame = decode_image(encoded(Image.fromarray(rgba, "RGBA"), "PNG"))
    assert (frame[:, :4] == (255, 0, 0)).all()
    assert (frame[:, 4:] == 255).all()


def test_palette_images_decode_to_their_colours() -> None:
    image = Image.fromarray(GRADIENT).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    expected = np.asarray(image.convert("RGB"))
    assert np.array_equal(decode_image(encoded(image, "PNG")), expected)


def test_palette_images_with_transparency_decode() -> None:
    image = Image.new("P", (4, 4), 0)
    image.putpalette([0, 0, 255, 0, 255, 0])
    image.putpixel((0, 0), 1)
    frame = decode_image(encoded(image, "PNG", transparency=0))
    assert tuple(frame[0, 0]) == (0, 255, 0)
    assert tuple(frame[1, 1]) == (255, 255, 255)


def test_greyscale_images_become_three_equal_channels() -> None:
    grey = Image.fromarray(GRADIENT[:, :, 0])
    frame = decode_image(encoded(grey, "PNG"))
    assert frame.shape == (24, 32, 3)
    assert np.array_equal(frame[:, :, 0], GRADIENT[:, :, 0])
    assert np.array_equal(frame[:, :, 1], frame[:, :, 2])


def test_sixteen_bit_greyscale_is_scaled_not_clipped() -> None:
    wide = np.full((4, 4), 32768, dtype=np.uint16)
    frame = decode_image(encoded(Image.fromarray(wide), "PNG"))
    assert abs(int(frame[0, 0, 0]) - 128) <= 1


def test_cmyk_jpegs_are_converted() -> None:
    cmyk = Image.new("CMYK", (8, 8), (0, 255, 255, 0))  # pure red in CMYK
    frame = decode_image(encoded(cmyk, "JPEG", quality=95))
    assert frame.shape == (8, 8, 3)
    assert frame[4, 4, 0] > 200 and frame[4, 4, 1] < 60


def test_exif_orientation_is_applied() -> None:
    image = Image.fromarray(GRADIENT)  # 32 wide, 24 high
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    frame = decode_image(encoded(image, "JPEG", exif=exif.tobytes()))
    assert frame.shape == (32, 24, 3)


@pytest.mark.parametrize(
    "data",
    [
        encoded(Image.new("RGB", (4, 4)), "GIF"),
        encoded(Image.new("RGB", (4, 4)), "BMP"),
        b"",
        b"definitely not an image",
        encoded(Image.fromarray(GRADIENT), "PNG")[:60],
    ],
    ids=["gif", "bmp", "empty", "garbage", "truncated-png"],
)
def test_other_formats_and_broken_data_are_image_format_errors(data: bytes) -> None:
    with pytest.raises(ImageFormatError):
        decode_image(data)


def test_images_over_the_pixel_limit_are_refused() -> None:
    data = encoded(Image.new("RGB", (100, 100)), "PNG")
    with pytest.raises(ImageFormatError):
        decode_image(data, max_pixels=5000)
    assert decode_image(data, max_pixels=10_000).shape == (100, 100, 3)


def test_pillows_decompression_bomb_limit_applies_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(ImageFormatError):
        decode_image(encoded(Image.new("RGB", (100, 100)), "PNG"))
