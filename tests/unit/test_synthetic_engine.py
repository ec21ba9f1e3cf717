"""The procedural synthetic engine: determinism, variety, conditioning frames, laziness."""

from __future__ import annotations

import time

import numpy as np
import pytest

from reelserve.engines.base import (
    MUSIC_OPERATIONS,
    Audio,
    Capability,
    EngineError,
    EngineOutput,
    EngineRequest,
    Kind,
)
from reelserve.engines.synthetic import SyntheticEngine

W, H = 320, 180
VIDEO_OPERATIONS = [op for op in Capability if op.kind is Kind.VIDEO and op not in MUSIC_OPERATIONS]
# A driving clip for lip_sync: one second of a 220 Hz tone, loud then quiet.
_T = np.arange(44100) / 44100
TONE = Audio((0.5 * np.sin(2 * np.pi * 220 * _T) * (_T < 0.5)).astype(np.float32)[:, None], 44100)
VISIBLE = 10 / 255  # the smallest mean absolute difference counted as "visibly different"


def request(
    operation: Capability = Capability.TEXT_TO_VIDEO,
    prompt: str = "a lighthouse in a storm",
    *,
    frames: int = 24,
    seed: int = 7,
    width: int = W,
    height: int = H,
    image: np.ndarray | None = None,
    video: list[np.ndarray] | None = None,
    audio: Audio | None = None,
) -> EngineRequest:
    return EngineRequest(
        operation, prompt, width, height, frames, 24, seed, image=image, video=video, audio=audio
    )


def run(req: EngineRequest) -> EngineOutput:
    out = SyntheticEngine().run(req, lambda _: None)
    assert isinstance(out, EngineOutput)
    return out


def generate(req: EngineRequest) -> list[np.ndarray]:
    return list(run(req).frames)


def mad(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference on a 0..1 scale."""
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean()) / 255


def test_engine_serves_every_operation_and_says_it_is_not_ai() -> None:
    assert SyntheticEngine.name == "synthetic"
    assert SyntheticEngine.capabilities == frozenset(Capability) - {
        Capability.AUDIO_TO_MIDI,
        Capability.MUSIC_VIDEO,
        Capability.CONVERT_AUDIO,
    }
    assert "not AI" in SyntheticEngine.description


@pytest.mark.parametrize("operation", VIDEO_OPERATIONS)
def test_output_geometry_matches_the_request(operation: Capability) -> None:
    grey = np.full((H, W, 3), 90, np.uint8)
    req = request(operation, frames=10, image=grey, video=[grey] * 4, audio=TONE)
    out = run(req)
    assert (out.num_frames, out.width, out.height, out.fps) == (10, W, H, 24)
    frames = list(out.frames)
    assert len(frames) == 10
    assert all(f.shape == (H, W, 3) and f.dtype == np.uint8 for f in frames)


@pytest.mark.parametrize("operation", VIDEO_OPERATIONS)
def test_the_same_request_gives_bit_identical_frames(operation: Capability) -> None:
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    req = request(operation, frames=12, image=image, video=[image, 255 - image], audio=TONE)
    first, second = generate(req), generate(req)
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


def test_different_prompts_give_visibly_different_videos() -> None:
    a = generate(request(prompt="a red fox in the snow", frames=6))
    b = generate(request(prompt="neon city at night, rain", frames=6))
    assert min(mad(x, y) for x, y in zip(a, b, strict=True)) > 2 * VISIBLE


def test_different_seeds_give_different_videos() -> None:
    a = generate(request(seed=1, frames=2))
    b = generate(request(seed=2, frames=2))
    assert mad(a[0], b[0]) > VISIBLE


def test_text_to_video_moves() -> None:
    frames = generate(request(frames=48))
    assert mad(frames[0], frames[-1]) > VISIBLE
    assert not np.array_equal(frames[0], frames[1])


@pytest.mark.parametrize(
    "image",
    [
        np.full((H, W, 3), 128, np.uint8),
        np.zeros((H, W, 3), np.uint8),
        np.full((H, W, 3), 255, np.uint8),
        np.random.default_rng(0).integers(0, 256, (H, W, 3), dtype=np.uint8),
    ],
    ids=["flat-grey", "black", "white", "noise"],
)
def test_image_to_video_starts_exactly_on_the_image_and_then_moves(image: np.ndarray) -> None:
    frames = generate(request(Capability.IMAGE_TO_VIDEO, image=image, frames=48))
    assert np.array_equal(frames[0], image)
    assert mad(frames[0], frames[-1]) >= VISIBLE


def test_image_to_video_moves_for_any_prompt_on_a_flat_grey_image() -> None:
    grey = np.full((H, W, 3), 128, np.uint8)
    for seed in range(8):
        frames = generate(
            request(Capability.IMAGE_TO_VIDEO, f"prompt {seed}", image=grey, seed=seed, frames=24)
        )
        assert mad(frames[0], frames[-1]) >= VISIBLE


def test_extension_starts_from_the_parents_last_frame() -> None:
    parent = generate(request(frames=24))
    last = parent[-1]
    frames = generate(request(Capability.EXTEND, "now it rains", image=last, frames=48))
    assert np.array_equal(frames[0], last)
    assert mad(frames[0], frames[-1]) >= VISIBLE


def test_a_missing_conditioning_image_is_an_engine_error() -> None:
    with pytest.raises(EngineError):
        SyntheticEngine().run(request(Capability.IMAGE_TO_VIDEO), lambda _: None)


def test_video_to_video_without_a_source_is_an_input_error() -> None:
    with pytest.raises(EngineError) as caught:
        SyntheticEngine().run(request(Capability.VIDEO_TO_VIDEO, video=[]), lambda _: None)
    assert caught.value.fail_code == 400


def test_video_to_video_grades_the_source_and_resamples_it_to_the_requested_length() -> None:
    source = [np.full((H, W, 3), 40 * i, np.uint8) for i in range(4)]
    frames = generate(request(Capability.VIDEO_TO_VIDEO, video=source, frames=8))
    assert len(frames) == 8
    # Frame 0 shows source 0 (no prompt text yet): one uniform graded colour.
    assert len(np.unique(frames[0].reshape(-1, 3), axis=0)) == 1
    assert frames[7].mean() > frames[0].mean()  # later frames come from brighter sources


def prompt_pixels(prompt: str, width: int = W, height: int = H) -> np.ndarray:
    """Where the prompt text is drawn: a graded flat video differs from its colour only there."""
    flat = np.full((height, width, 3), 100, np.uint8)
    req = request(
        Capability.VIDEO_TO_VIDEO, prompt, width=width, height=height, video=[flat], frames=30
    )
    last = generate(req)[-1]
    background = generate(
        request(Capability.VIDEO_TO_VIDEO, prompt, width=width, height=height, video=[flat])
    )[0][0, 0]
    mask: np.ndarray = np.any(last != background, axis=2)
    return mask


@pytest.mark.parametrize(("width", "height"), [(W, H), (180, 320)])
def test_the_prompt_is_drawn_near_the_top_and_clear_of_the_watermark_corner(
    width: int, height: int
) -> None:
    ys, _ = np.nonzero(prompt_pixels("a lighthouse in a storm", width, height))
    assert ys.size > 0
    assert ys.max() < height / 2


def text_lines(mask: np.ndarray) -> int:
    """Bands of rows with ink, separated by empty rows."""
    rows = mask.any(axis=1).astype(np.int8)
    return int(np.count_nonzero(np.diff(np.concatenate([[0], rows])) == 1))


def test_a_long_prompt_is_cut_to_three_lines() -> None:
    # Only x-height letters, so lines never touch through ascenders or descenders.
    assert text_lines(prompt_pixels("mere saw")) == 1
    assert text_lines(prompt_pixels("mere saw seven euros near our car " * 30)) == 3


def test_frames_are_generated_lazily_and_progress_reaches_one() -> None:
    reported: list[float] = []
    out = SyntheticEngine().run(request(frames=12), reported.append)
    assert isinstance(out, EngineOutput)
    assert reported == []
    frames = iter(out.frames)
    next(frames)
    assert reported == [pytest.approx(1 / 12)]
    for _ in frames:
        pass
    assert reported[-1] == 1.0
    assert reported == sorted(reported)


def test_timing_of_120_frames_at_720p_is_printed() -> None:
    for operation in (Capability.TEXT_TO_VIDEO, Capability.IMAGE_TO_VIDEO):
        image = np.full((720, 1280, 3), 128, np.uint8)
        req = request(operation, frames=120, width=1280, height=720, image=image)
        start = time.perf_counter()
        for _ in run(req).frames:
            pass
        print(f"synthetic {operation} 120 x 1280x720: {time.perf_counter() - start:.3f} s")


def _restyled(prompt: str, seed: int = 7, reference: np.ndarray | None = None) -> list[np.ndarray]:
    y = np.linspace(0, 255, H)[:, None]
    x = np.linspace(0, 255, W)[None, :]
    source = [np.stack([x + 0 * y, y + 0 * x, 255 - (x + y) / 2], -1).astype(np.uint8)]
    req = EngineRequest(
        Capability.VIDEO_TO_VIDEO,
        prompt,
        W,
        H,
        4,
        24,
        seed,
        video=source,
        reference_image=reference,
    )
    return [source[0], *generate(req)]


def test_video_to_video_restyles_visibly_by_prompt_seed_and_reference_colours() -> None:
    source, *a = _restyled("watercolour")
    _, *b = _restyled("neon night")
    _, *c = _restyled("watercolour", seed=8)
    _, *again = _restyled("watercolour")
    red = np.zeros((40, 40, 3), np.uint8)
    red[..., 0] = 230
    _, *tinted = _restyled("watercolour", reference=red)
    assert mad(a[0], source) >= VISIBLE
    assert mad(a[0], b[0]) >= VISIBLE and mad(a[0], c[0]) >= VISIBLE
    assert all(np.array_equal(x, y) for x, y in zip(a, again, strict=True))
    assert tinted[0][..., 0].mean() > a[0][..., 0].mean() + 20
