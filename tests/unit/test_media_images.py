"""media.images: PNG/JPEG/WebP encoding, read back with Pillow."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reelserve.media.images import encode_image, image_format, write_image

W, H = 120, 80


def picture(channels: int = 3) -> np.ndarray:
    y, x = np.mgrid[0:H, 0:W]
    rgb = np.stack([x * 2, y * 3, np.full_like(x, 90)], -1).astype(np.uint8)
    if channels == 3:
        return rgb
    alpha = np.where(x < W // 2, 0, 255).astype(np.uint8)
    return np.dstack([rgb, alpha])


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize(
    ("fmt", "pil_format"), [("png", "PNG"), ("jpeg", "JPEG"), ("jpg", "JPEG"), ("webp", "WEBP")]
)
def test_each_format_decodes_back_to_the_same_size_as_rgb(fmt: str, pil_format: str) -> None:
    image = decoded(encode_image(picture(), fmt))
    assert image.format == pil_format and image.size == (W, H) and image.mode == "RGB"


def test_png_is_lossless() -> None:
    source = picture(4)
    assert np.array_equal(np.asarray(decoded(encode_image(source, "png"))), source)


@pytest.mark.parametrize("fmt", ["png", "webp"])
def test_png_and_webp_keep_the_alpha_channel(fmt: str) -> None:
    image = decoded(encode_image(picture(4), fmt))
    assert image.mode == "RGBA"
    alpha = np.asarray(image)[..., 3]
    assert (alpha[:, : W // 2 - 1] == 0).all() and (alpha[:, W // 2 :] == 255).all()


def test_jpeg_flattens_transparency_onto_white_and_is_close_to_the_source() -> None:
    image = decoded(encode_image(picture(4), "jpeg"))
    assert image.mode == "RGB"
    pixels = np.asarray(image).astype(int)
    assert (pixels[:, : W // 2 - 8] > 245).all()  # transparent half: white
    opaque = picture()[:, W // 2 + 8 :].astype(int)
    assert np.abs(pixels[:, W // 2 + 8 :] - opaque).mean() < 3  # quality ~92


def test_greyscale_arrays_encode_as_l() -> None:
    grey = picture()[..., 0]
    assert decoded(encode_image(grey, "png")).mode == "L"


def test_write_image_is_atomic_and_creates_folders(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b.webp"
    write_image(path, picture(), "webp")
    assert [p.name for p in path.parent.iterdir()] == ["b.webp"]
    assert Image.open(path).format == "WEBP"


def test_unknown_formats_and_bad_arrays_are_refused() -> None:
    assert image_format(" JPG ") == "jpeg"
    with pytest.raises(ValueError, match="unknown image format"):
        encode_image(picture(), "gif")
    with pytest.raises(ValueError):
        encode_image(picture().astype(np.float32), "png")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        encode_image(np.zeros((4, 4, 2), np.uint8), "png")
