"""fit_cover, Overlay, Watermark and resample_indices."""

from __future__ import annotations

import numpy as np
import pytest

from reelserve.media.frames import Overlay, Watermark, fit_cover, resample_indices


def stripes(width: int, height: int) -> np.ndarray:
    """Red left third, green middle third, blue right third."""
    frame = np.zeros((height, width, 3), np.uint8)
    third = width // 3
    frame[:, :third] = (255, 0, 0)
    frame[:, third : 2 * third] = (0, 255, 0)
    frame[:, 2 * third :] = (0, 0, 255)
    return frame


@pytest.mark.parametrize(
    ("src", "dst"),
    [
        ((1920, 1080), (960, 960)),
        ((1080, 1920), (1280, 720)),
        ((300, 200), (1280, 720)),
        ((1280, 720), (720, 1280)),
        ((641, 479), (960, 720)),
    ],
)
def test_fit_cover_produces_exactly_the_requested_size(
    src: tuple[int, int], dst: tuple[int, int]
) -> None:
    frame = np.zeros((src[1], src[0], 3), np.uint8)
    out = fit_cover(frame, *dst)
    assert out.shape == (dst[1], dst[0], 3)
    assert out.dtype == np.uint8


def test_fit_cover_returns_the_same_object_when_the_size_already_matches() -> None:
    frame = np.zeros((48, 64, 3), np.uint8)
    assert fit_cover(frame, 64, 48) is frame


def test_fit_cover_crops_the_centre_instead_of_squashing() -> None:
    out = fit_cover(stripes(300, 100), 100, 100)
    # Only the middle (green) third survives a centre crop to a square.
    assert np.abs(out[:, 5:-5].astype(int) - (0, 255, 0)).max() <= 2


def test_fit_cover_leaves_its_input_untouched() -> None:
    frame = stripes(300, 100)
    before = frame.copy()
    fit_cover(frame, 50, 50)
    assert np.array_equal(frame, before)


@pytest.mark.parametrize(
    ("src", "dst", "expected"),
    [
        (4, 8, [0, 0, 1, 1, 2, 2, 3, 3]),
        (6, 3, [0, 2, 4]),
        (5, 5, [0, 1, 2, 3, 4]),
        (3, 7, [0, 0, 0, 1, 1, 2, 2]),
        (10, 4, [0, 2, 5, 7]),
        (1, 3, [0, 0, 0]),
        (7, 0, []),
    ],
)
def test_resample_indices_maps_output_frames_to_floor_i_times_src_over_dst(
    src: int, dst: int, expected: list[int]
) -> None:
    assert resample_indices(src, dst) == expected


def test_resample_indices_rejects_an_empty_source_or_a_negative_target() -> None:
    with pytest.raises(ValueError):
        resample_indices(0, 5)
    with pytest.raises(ValueError):
        resample_indices(5, -1)


@pytest.mark.parametrize(
    ("text", "width", "height"),
    [
        ("reelserve", 1280, 720),
        ("reelserve.example.com", 720, 1280),
        ("a much longer watermark text that cannot possibly fit at four percent " * 3, 960, 960),
        ("tiny", 64, 48),
    ],
)
def test_watermark_changes_pixels_only_inside_its_box_in_the_bottom_right(
    text: str, width: int, height: int
) -> None:
    mark = Watermark(text, width, height)
    x0, y0, x1, y1 = mark.box
    assert width / 2 <= x0 < x1 <= width
    assert height / 2 <= y0 < y1 <= height
    for value in (0, 128, 255):
        frame = np.full((height, width, 3), value, np.uint8)
        changed = np.any(mark.apply(frame) != frame, axis=2)
        ys, xs = np.nonzero(changed)
        assert ys.size > 0, "the watermark must be visible on any background"
        assert x0 <= xs.min() and xs.max() < x1
        assert y0 <= ys.min() and ys.max() < y1


def test_watermark_is_white_text_with_a_dark_outline() -> None:
    mark = Watermark("reelserve", 1280, 720)
    x0, y0, x1, y1 = mark.box
    grey = np.full((720, 1280, 3), 128, np.uint8)
    box = mark.apply(grey)[y0:y1, x0:x1]
    assert box.max() == 255
    assert box.min() < 80


def test_watermark_font_is_proportional_to_the_frame_height() -> None:
    small = Watermark("reelserve", 1280, 720).box
    large = Watermark("reelserve", 1920, 1080).box
    ratio = (large[3] - large[1]) / (small[3] - small[1])
    assert 1.3 < ratio < 1.7


def test_watermark_apply_returns_a_new_frame_and_leaves_the_input_alone() -> None:
    mark = Watermark("reelserve", 320, 240)
    frame = np.zeros((240, 320, 3), np.uint8)
    out = mark.apply(frame)
    assert out is not frame
    assert not frame.any()
    assert out.any()


def test_watermark_rejects_empty_text_and_frames_of_another_size() -> None:
    with pytest.raises(ValueError):
        Watermark("   ", 320, 240)
    mark = Watermark("x", 320, 240)
    with pytest.raises(ValueError):
        mark.apply(np.zeros((240, 321, 3), np.uint8))


def test_overlay_blending_is_clipped_at_the_frame_edges() -> None:
    alpha = np.ones((10, 10), np.float32)
    overlay = Overlay.from_alpha(alpha, (255.0, 0.0, 0.0))
    frame = np.zeros((20, 20, 3), np.uint8)
    overlay.blend_into(frame, -5, 15)
    assert (frame[15:, :5] == (255, 0, 0)).all()
    assert int(np.any(frame != 0, axis=2).sum()) == 25
    overlay.blend_into(frame, 100, 100)  # entirely outside: a no-op, not an error


def test_overlay_opacity_scales_the_blend() -> None:
    overlay = Overlay.from_alpha(np.ones((2, 2), np.float32), (200.0, 200.0, 200.0))
    frame = np.zeros((2, 2, 3), np.uint8)
    overlay.blend_into(frame, 0, 0, opacity=0.5)
    assert (frame == 100).all()
