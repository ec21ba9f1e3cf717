"""The synthetic engine's image operations: scenes, edits, upscales and cut-outs."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PIL import Image, ImageDraw

from reelserve.engines.base import Capability, EngineError, EngineRequest, ImageOutput
from reelserve.engines.synthetic import SyntheticEngine
from reelserve.engines.synthetic.image import landscape

W, H = 256, 192
VISIBLE = 10 / 255


def mad(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean()) / 255


def images(
    operation: Capability, prompt: str = "a quiet harbour", **fields: object
) -> list[np.ndarray]:
    base: dict[str, object] = {"width": W, "height": H, "seed": 11}
    base.update(fields)
    out = SyntheticEngine().run(EngineRequest(operation, prompt, **base), lambda _: None)  # type: ignore[arg-type]
    assert isinstance(out, ImageOutput)
    return out.images


def photo(seed: int = 0, width: int = W, height: int = H) -> np.ndarray:
    """A smooth, photo-like input: gradients plus a little noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 255 / width, y * 255 / height, (x + y) * 127 / (width + height) + 64], -1)
    return np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)


def test_text_to_image_makes_count_distinct_rgb_images_of_the_asked_size() -> None:
    out = images(Capability.TEXT_TO_IMAGE, count=3)
    assert len(out) == 3
    assert all(i.shape == (H, W, 3) and i.dtype == np.uint8 for i in out)
    assert mad(out[0], out[1]) > VISIBLE and mad(out[1], out[2]) > VISIBLE


def test_text_to_image_is_deterministic_and_varies_with_seed_and_prompt() -> None:
    first = images(Capability.TEXT_TO_IMAGE)[0]
    assert np.array_equal(first, images(Capability.TEXT_TO_IMAGE)[0])
    assert mad(first, images(Capability.TEXT_TO_IMAGE, seed=12)[0]) > VISIBLE
    assert mad(first, images(Capability.TEXT_TO_IMAGE, "neon rain")[0]) > VISIBLE


def test_text_to_image_draws_the_prompt_near_the_top() -> None:
    drawn = images(Capability.TEXT_TO_IMAGE, "a quiet harbour")[0]
    scene = landscape("a quiet harbour", 11, W, H)  # the same scene without the caption
    ys, _ = np.nonzero(np.any(drawn != scene, axis=2))
    assert ys.size > 100
    assert ys.max() < H / 2


def test_a_1024_square_text_to_image_takes_under_0_3_s() -> None:
    images(Capability.TEXT_TO_IMAGE, width=64, height=64)  # warm the font cache
    timings = []
    for seed in range(3):
        start = time.perf_counter()
        images(Capability.TEXT_TO_IMAGE, "a lighthouse at dusk", width=1024, height=1024, seed=seed)
        timings.append(time.perf_counter() - start)
    print(f"text_to_image 1024x1024: median {sorted(timings)[1]:.3f} s")
    assert sorted(timings)[1] < 0.3


def test_image_to_image_stays_measurably_closer_to_its_input_than_a_fresh_image() -> None:
    source = photo()
    edited = images(Capability.IMAGE_TO_IMAGE, "make it winter", images=[source])[0]
    fresh = images(Capability.TEXT_TO_IMAGE, "make it winter")[0]
    assert edited.shape == (H, W, 3)
    assert mad(edited, source) >= VISIBLE  # visibly restyled
    assert mad(edited, source) < 0.6 * mad(fresh, source)


def test_image_to_image_fits_the_input_to_the_output_size_and_is_deterministic() -> None:
    source = photo(width=400, height=100)
    a = images(Capability.IMAGE_TO_IMAGE, images=[source])[0]
    assert a.shape == (H, W, 3)
    assert np.array_equal(a, images(Capability.IMAGE_TO_IMAGE, images=[source])[0])
    assert not np.array_equal(a, images(Capability.IMAGE_TO_IMAGE, images=[source], seed=99)[0])


def test_image_to_image_changes_only_the_white_part_of_the_mask() -> None:
    source = photo()
    mask = np.zeros((H, W), np.uint8)
    mask[:, W // 2 :] = 255
    edited = images(Capability.IMAGE_TO_IMAGE, "", images=[source], mask=mask)[0]
    assert np.array_equal(edited[:, : W // 2 - 2], source[:, : W // 2 - 2])
    assert mad(edited[:, W // 2 + 2 :], source[:, W // 2 + 2 :]) >= VISIBLE


def test_image_to_image_shows_further_images_as_thumbnails() -> None:
    source = photo()
    red = np.zeros((50, 50, 3), np.uint8)
    red[..., 0] = 255
    plain = images(Capability.IMAGE_TO_IMAGE, "", images=[source])[0]
    with_ref = images(Capability.IMAGE_TO_IMAGE, "", images=[source, red])[0]
    corner = (slice(H // 2, H), slice(0, W // 2))
    pure_red = ((with_ref[corner] == (255, 0, 0)).all(axis=2)).sum()
    assert pure_red > 400
    assert ((plain[corner] == (255, 0, 0)).all(axis=2)).sum() == 0


def test_upscale_is_exactly_a_lanczos_resize_of_the_input() -> None:
    source = photo(width=64, height=48)
    out = images(Capability.UPSCALE_IMAGE, images=[source], width=128, height=96)[0]
    want = np.asarray(Image.fromarray(source).resize((128, 96), Image.Resampling.LANCZOS))
    assert np.array_equal(out, want)


def test_upscale_keeps_an_alpha_channel_and_defaults_to_twice_the_size() -> None:
    rgba = np.dstack([photo(width=40, height=30), np.full((30, 40), 128, np.uint8)])
    out = images(Capability.UPSCALE_IMAGE, images=[rgba], width=0, height=0)[0]
    assert out.shape == (60, 80, 4)


def subject_on_green(width: int = W, height: int = H) -> tuple[np.ndarray, np.ndarray]:
    """A red disk (and a blue bar) drawn on flat green, and where the subject is."""
    image = np.zeros((height, width, 3), np.uint8)
    image[...] = (30, 180, 60)
    y, x = np.mgrid[0:height, 0:width]
    disk = (x - width / 2) ** 2 + (y - height / 2) ** 2 < (height / 4) ** 2
    image[disk] = (220, 30, 30)
    image[10:30, 10:60] = (20, 20, 200)
    subject = disk.copy()
    subject[10:30, 10:60] = True
    return image, subject


def test_remove_background_makes_the_border_colour_transparent_and_the_subject_opaque() -> None:
    image, subject = subject_on_green()
    out = images(Capability.REMOVE_BACKGROUND, images=[image], width=0, height=0)[0]
    assert out.shape == (H, W, 4) and out.dtype == np.uint8
    assert np.array_equal(out[..., :3], image)
    assert (out[..., 3][subject] == 255).all()
    assert (out[..., 3][~subject] == 0).all()


def test_remove_background_keeps_an_enclosed_region_of_the_border_colour_opaque() -> None:
    image, _ = subject_on_green()
    ring = image.copy()
    ring[60:130, 80:180] = (220, 30, 30)
    ring[80:110, 110:150] = (30, 180, 60)  # a green hole inside the red block
    alpha = images(Capability.REMOVE_BACKGROUND, images=[ring])[0][..., 3]
    assert (alpha[85:105, 115:145] == 255).all()
    assert (alpha[0:5, :] == 0).all()


def test_remove_background_gives_antialiased_edges_partial_alpha() -> None:
    big = Image.new("RGB", (W * 4, H * 4), (255, 255, 255))
    ImageDraw.Draw(big).ellipse((W, H, 3 * W, 3 * H), fill=(0, 0, 0))
    small = np.asarray(big.resize((W, H), Image.Resampling.LANCZOS))
    alpha = images(Capability.REMOVE_BACKGROUND, images=[small])[0][..., 3]
    partial = ((alpha > 0) & (alpha < 255)).sum()
    assert partial > 200  # most of the ~600 px circumference
    assert alpha[H // 2, W // 2] == 255 and alpha[0, 0] == 0


@pytest.mark.parametrize(
    "operation",
    [Capability.IMAGE_TO_IMAGE, Capability.UPSCALE_IMAGE, Capability.REMOVE_BACKGROUND],
)
def test_an_image_operation_without_an_input_image_is_a_400(operation: Capability) -> None:
    with pytest.raises(EngineError) as caught:
        images(operation)
    assert caught.value.fail_code == 400
