"""Encoding images to PNG, JPEG or WebP, as a model's `output_format` asks.

PNG and WebP keep an alpha channel (background removal returns RGBA);
JPEG has none, so RGBA is flattened onto white, which is what a viewer
shows for a transparent PNG on a page. PNG uses a low zlib level: at
1024x1024 level 1 is several times faster than Pillow's default 6 for
files ~10-20% larger, and encoding is on the critical path of every image task.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import IO

import numpy as np
from PIL import Image

from reelserve.engines.base import Frame
from reelserve.media.atomic import temp_path

IMAGE_FORMATS = ("png", "jpeg", "webp")
CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
EXTENSIONS = {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}
PNG_COMPRESS_LEVEL = 1
JPEG_QUALITY = 92
WEBP_QUALITY = 90


def image_format(fmt: str) -> str:
    """The canonical name of `fmt` ("jpg" and "JPEG" are "jpeg"); ValueError when unknown."""
    name = fmt.strip().lower()
    name = "jpeg" if name == "jpg" else name
    if name not in IMAGE_FORMATS:
        raise ValueError(
            f"unknown image format {fmt!r}; expected one of {', '.join(IMAGE_FORMATS)}"
        )
    return name


def to_pil(image: Frame) -> Image.Image:
    """A PIL image of a uint8 (h, w), (h, w, 3) or (h, w, 4) array (L, RGB or RGBA)."""
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {image.dtype}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 2:
        return Image.fromarray(np.ascontiguousarray(image), mode="L")
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(f"expected (h, w), (h, w, 3) or (h, w, 4), got {image.shape}")
    return Image.fromarray(
        np.ascontiguousarray(image), mode="RGB" if image.shape[2] == 3 else "RGBA"
    )


def encode_image(image: Frame, fmt: str) -> bytes:
    """The encoded bytes of `image` in `fmt` ("png", "jpeg"/"jpg", "webp")."""
    buffer = io.BytesIO()
    _save(to_pil(image), buffer, image_format(fmt))
    return buffer.getvalue()


def write_image(path: Path, image: Frame, fmt: str) -> None:
    """Write `image` as `fmt` at `path`, atomically (temporary name, then rename)."""
    name = image_format(fmt)
    picture = to_pil(image)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    try:
        with tmp.open("wb") as handle:
            _save(picture, handle, name)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _save(picture: Image.Image, target: IO[bytes], fmt: str) -> None:
    if fmt == "png":
        picture.save(target, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    elif fmt == "jpeg":
        if picture.mode in ("RGBA", "LA"):
            white = Image.new("RGB", picture.size, (255, 255, 255))
            white.paste(picture, mask=picture.getchannel("A"))
            picture = white
        # 4:4:4 above quality 90 would double the size for little gain; Pillow's 4:2:0 default.
        picture.save(target, format="JPEG", quality=JPEG_QUALITY, optimize=False)
    else:
        # method 4 is libwebp's default speed/size balance; alpha is kept (lossless alpha plane).
        picture.save(target, format="WEBP", quality=WEBP_QUALITY, method=4)
