"""Validation rules shared by every dialect. Each failure names the field and what is allowed."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from reelserve.errors import ValidationFailed

IMAGE_MIME_TYPES = ("image/jpeg", "image/png", "image/webp")
_DATA_URI = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[^;,]*)*?);base64,", re.I)
WATERMARK_MAX = 200


@dataclass(frozen=True)
class DataUri:
    mime: str
    data: bytes


def check_text(field: str, value: str, max_len: int) -> str:
    """A required free text of 1..max_len characters (whitespace alone does not count)."""
    if not value.strip():
        raise ValidationFailed(field, f"is required and must be 1..{max_len} characters")
    if len(value) > max_len:
        raise ValidationFailed(field, f"must be 1..{max_len} characters (got {len(value)})")
    return value


def check_http_url(field: str, value: str) -> str:
    try:
        parts = urlsplit(value)
        valid = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
        _ = parts.port  # raises for a port out of range or not a number
    except ValueError:
        valid = False
    if not valid or any(ch.isspace() for ch in value):
        raise ValidationFailed(field, "must be an http(s) URL")
    if len(value) > 4096:
        raise ValidationFailed(field, "must be at most 4096 characters")
    return value


def parse_data_uri(field: str, value: str, max_bytes: int) -> DataUri:
    match = _DATA_URI.match(value)
    if not match:
        raise ValidationFailed(field, "a data: URI must look like data:<mime>;base64,<data>")
    payload = value[match.end() :]
    # Reject before decoding what is certainly too large (base64 is 4/3 of the bytes).
    if len(payload) > (max_bytes * 4) // 3 + 4:
        raise ValidationFailed(field, f"data: URI content must be at most {max_bytes} bytes")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed(field, "data: URI content is not valid base64") from None
    if len(data) > max_bytes:
        raise ValidationFailed(field, f"data: URI content must be at most {max_bytes} bytes")
    if not data:
        raise ValidationFailed(field, "data: URI content is empty")
    return DataUri(mime=(match.group("mime") or "").lower(), data=data)


def parse_image_source(field: str, value: str, max_bytes: int) -> str | DataUri:
    """An http(s) URL (fetched later by the worker) or a data: URI of a JPEG/PNG/WebP image."""
    if value[:5].lower() == "data:":
        uri = parse_data_uri(field, value, max_bytes)
        if uri.mime not in IMAGE_MIME_TYPES:
            allowed = ", ".join(IMAGE_MIME_TYPES)
            raise ValidationFailed(field, f"data: URI must be one of {allowed}")
        return uri
    return check_http_url(field, value)


def check_watermark(field: str, value: str) -> str:
    if len(value) > WATERMARK_MAX:
        raise ValidationFailed(field, f"must be at most {WATERMARK_MAX} characters")
    if any(ch in value for ch in "\r\n"):
        raise ValidationFailed(field, "must be a single line")
    return value


def parse_video_source(field: str, value: str, max_bytes: int) -> str | DataUri:
    """An http(s) URL (fetched later by the worker) or a data: URI of a video (any video/*).

    Whether the bytes really are a video is only known once decoded, so that
    is the worker's check (a task failed with failCode 400).
    """
    if value[:5].lower() == "data:":
        uri = parse_data_uri(field, value, max_bytes)
        if not uri.mime.startswith("video/") and uri.mime != "application/octet-stream":
            raise ValidationFailed(field, "data: URI must be a video (video/mp4, video/webm, ...)")
        return uri
    return check_http_url(field, value)


SEED_MAX = 2**32 - 1


def check_seed(field: str, value: int | None) -> int | None:
    """An optional seed in 0..4294967295 (the range Runway and most open models take)."""
    if value is not None and not 0 <= value <= SEED_MAX:
        raise ValidationFailed(field, f"must be an integer in 0..{SEED_MAX}")
    return value
