"""The synthetic engine's newer video operations and its soundtracks."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from reelserve.engines.base import Audio, Capability, EngineError, EngineOutput, EngineRequest, Kind
from reelserve.engines.synthetic import SyntheticEngine

W, H = 160, 96
VISIBLE = 10 / 255
VIDEO_OPERATIONS = [
    op for op in Capability if op.kind is Kind.VIDEO and op is not Capability.MUSIC_VIDEO
]
RATE = 44100


def mad(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean()) / 255


def noise(seed: int = 0, width: int = W, height: int = H) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def bursts(seconds: float = 1.0, on: tuple[float, float] = (0.0, 0.5)) -> Audio:
    t = np.arange(round(seconds * RATE)) / RATE
    loud = (t >= on[0]) & (t < on[1])
    return Audio((0.5 * np.sin(2 * np.pi * 220 * t) * loud).astype(np.float32)[:, None], RATE)


def run(req: EngineRequest) -> EngineOutput:
    out = SyntheticEngine().run(req, lambda _: None)
    assert isinstance(out, EngineOutput)
    return out


def make(operation: Capability, **fields: object) -> EngineRequest:
    base: dict[str, object] = {
        "width": W,
        "height": H,
        "num_frames": 24,
        "fps": 24,
        "seed": 3,
        "image": noise(),
        "video": [noise(1), noise(2), noise(3)],
        "audio": bursts(),
    }
    base.update(fields)
    return EngineRequest(operation, "a lantern festival", **base)  # type: ignore[arg-type]


@pytest.mark.parametrize("operation", VIDEO_OPERATIONS)
def test_with_sound_every_video_operation_has_a_stereo_track_exactly_as_long_as_the_video(
    operation: Capability,
) -> None:
    out = run(make(operation, num_frames=30, sound=True, sample_rate=48000))
    assert out.audio is not None
    channels = 1 if operation is Capability.LIP_SYNC else 2  # lip_sync keeps the driving clip
    assert out.audio.samples.shape == (round(30 / 24 * out.audio.sample_rate), channels)
    assert out.audio.samples.dtype == np.float32
    assert float(np.abs(out.audio.samples).max()) <= 1.0
    if operation is not Capability.LIP_SYNC:
        assert out.audio.sample_rate == 48000
        assert float(np.abs(out.audio.samples).std()) > 0.01


@pytest.mark.parametrize(
    "operation", [op for op in VIDEO_OPERATIONS if op is not Capability.LIP_SYNC]
)
def test_without_sound_a_video_has_no_audio(operation: Capability) -> None:
    assert run(make(operation, sound=False)).audio is None


def test_soundtracks_follow_the_prompt_and_are_deterministic() -> None:
    def track(prompt: str) -> np.ndarray:
        req = EngineRequest(Capability.TEXT_TO_VIDEO, prompt, W, H, 24, 24, 1, sound=True)
        out = run(req)
        assert out.audio is not None
        return out.audio.samples

    assert np.array_equal(track("rain on a roof"), track("rain on a roof"))
    assert not np.allclose(track("rain on a roof"), track("a brass band"), atol=0.05)


def test_reference_to_video_takes_the_reference_images_colours() -> None:
    red = np.zeros((32, 32, 3), np.uint8)
    red[..., 0] = 230
    plain = run(make(Capability.REFERENCE_TO_VIDEO, image=None, images=[]))
    tinted = run(make(Capability.REFERENCE_TO_VIDEO, image=None, images=[red]))
    plain_frames, tinted_frames = list(plain.frames), list(tinted.frames)
    assert tinted_frames[0][..., 0].mean() > plain_frames[0][..., 0].mean() + 20


def test_reference_to_video_with_a_start_image_begins_on_it() -> None:
    start = noise(5)
    frames = list(run(make(Capability.REFERENCE_TO_VIDEO, image=start, images=[noise(6)])).frames)
    assert np.array_equal(frames[0], start)
    assert mad(frames[0], frames[-1]) >= VISIBLE


def test_upscale_video_is_a_lanczos_resize_of_each_source_frame() -> None:
    source = [noise(i, 80, 48) for i in range(4)]
    frames = list(run(make(Capability.UPSCALE_VIDEO, video=source, num_frames=4)).frames)
    for got, src in zip(frames, source, strict=True):
        want = np.asarray(Image.fromarray(src).resize((W, H), Image.Resampling.LANCZOS))
        assert np.array_equal(got, want)


def test_lip_sync_opens_the_mouth_while_the_audio_is_loud_and_keeps_the_audio() -> None:
    portrait = np.full((H, W, 3), 200, np.uint8)
    clip = bursts(1.0, on=(0.0, 0.5))
    out = run(make(Capability.LIP_SYNC, image=portrait, audio=clip, num_frames=24))
    frames = list(out.frames)
    changed = [int(np.any(f != portrait, axis=2).sum()) for f in frames]
    loud, quiet = changed[2:10], changed[16:]
    assert min(loud) > 2 * max(quiet)
    assert out.audio is not None
    assert np.array_equal(out.audio.samples, clip.samples)


def test_lip_sync_without_a_frame_count_lasts_as_long_as_the_audio() -> None:
    out = run(make(Capability.LIP_SYNC, num_frames=0, audio=bursts(1.5)))
    assert out.num_frames == 36
    assert len(list(out.frames)) == 36


def test_motion_transfer_starts_on_the_image_and_moves_with_the_video() -> None:
    image = noise(7)
    bar = np.zeros((H, W, 3), np.uint8)
    bar[:, 10:30] = 255
    moving = [np.roll(bar, 4 * i, axis=1) for i in range(12)]
    frames = list(
        run(make(Capability.MOTION_TRANSFER, image=image, video=moving, num_frames=12)).frames
    )
    assert np.array_equal(frames[0], image)
    assert mad(frames[0], frames[-1]) >= VISIBLE
    still = list(
        run(make(Capability.MOTION_TRANSFER, image=image, video=[bar] * 12, num_frames=12)).frames
    )
    # Without motion only the fading-in prompt changes the picture.
    assert mad(still[0], still[-1]) < mad(frames[0], frames[-1])


@pytest.mark.parametrize(
    ("operation", "missing"),
    [
        (Capability.LIP_SYNC, {"audio": None}),
        (Capability.LIP_SYNC, {"image": None}),
        (Capability.MOTION_TRANSFER, {"video": None}),
        (Capability.MOTION_TRANSFER, {"image": None}),
        (Capability.UPSCALE_VIDEO, {"video": []}),
        (Capability.IMAGE_TO_VIDEO, {"image": None}),
    ],
)
def test_a_missing_input_is_a_400(operation: Capability, missing: dict[str, object]) -> None:
    with pytest.raises(EngineError) as caught:
        list(run(make(operation, **missing)).frames)
    assert caught.value.fail_code == 400
