"""Pure upload rules: paths, file names, base64 payloads and MIME types (spec §3)."""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
import uuid
from dataclasses import dataclass

from reelserve.blobs.keys import InvalidBlobKey, check_key
from reelserve.errors import ValidationFailed

_SEGMENT_RULE = "letters, digits, spaces and . _ ~ @ + = - (not starting with a space)"
_DATA_URL = re.compile(r"^data:([\w.+-]+/[\w.+-]+)?((?:;[\w.+-]+=[\w.+-]+)*);base64,", re.I)

# Extensions for the MIME types worth naming; mimetypes' own pick is odd for some
# (".jpe" for image/jpeg on some systems).
_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
    "video/webm": ".webm",
    "audio/mpeg": ".mp3",
    "audio/wav": ".wav",
    "audio/mp4": ".m4a",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
}


def upload_path(value: str | None) -> str:
    """The cleaned `uploadPath`: outer slashes stripped, every segment a safe key segment."""
    path = (value or "").strip().strip("/")
    if not path:
        raise ValidationFailed("uploadPath", "is required")
    segments = path.split("/")
    if ".." in segments:
        raise ValidationFailed("uploadPath", "must not contain a '..' segment")
    for segment in segments:
        if not _safe_segment(segment):
            raise ValidationFailed(
                "uploadPath", f"segment {segment!r} is invalid; segments may hold {_SEGMENT_RULE}"
            )
    return path


def file_name(value: str | None) -> str | None:
    """The given `fileName` (None when absent), refused when it is not one safe segment."""
    if value is None or value == "":
        return None
    if "/" in value or "\\" in value:
        raise ValidationFailed("fileName", "must not contain a path separator")
    if not _safe_segment(value) or len(value) > 255:
        raise ValidationFailed(
            "fileName", f"is invalid; a name may hold {_SEGMENT_RULE}, up to 255 characters"
        )
    return value


def generated_name(extension: str) -> str:
    """A fresh name for an upload sent without `fileName`, keeping the extension."""
    ext = extension if re.fullmatch(r"\.[A-Za-z0-9]{1,10}", extension) else ""
    return f"{uuid.uuid4().hex}{ext.lower()}"


def extension_for(name: str | None, mime: str) -> str:
    """The extension of `name` if it has one, else the usual one for `mime`."""
    if name:
        suffix = name.rsplit("/", 1)[-1]
        if "." in suffix:
            ext = "." + suffix.rsplit(".", 1)[1]
            if re.fullmatch(r"\.[A-Za-z0-9]{1,10}", ext):
                return ext
    return _EXTENSIONS.get(mime) or mimetypes.guess_extension(mime) or ""


def blob_key(api_key_id: str, path: str, name: str) -> str:
    """`uploads/<key id>/<uploadPath>/<fileName>`, checked against the blob key rules."""
    key = f"uploads/{api_key_id}/{path}/{name}"
    try:
        return check_key(key)
    except InvalidBlobKey:
        raise ValidationFailed(
            "uploadPath", "with fileName makes a path that is too long"
        ) from None


@dataclass(frozen=True)
class Base64Payload:
    data: bytes
    declared_mime: str | None


def decode_base64(value: str, max_bytes: int) -> Base64Payload:
    """Plain base64 or a `data:<mime>;base64,` URL; 422 naming `base64Data` when bad."""
    text = value.strip()
    declared: str | None = None
    match = _DATA_URL.match(text)
    if match:
        declared = (match.group(1) or "").lower() or None
        text = text[match.end() :]
    elif text.startswith("data:"):
        raise ValidationFailed("base64Data", "a data: URL must be base64-encoded (;base64,)")
    text = "".join(text.split())
    if not text:
        raise ValidationFailed("base64Data", "is required")
    if len(text) // 4 * 3 > max_bytes + 2:
        raise ValidationFailed("base64Data", f"decodes to more than the {max_bytes}-byte limit")
    # URL-safe alphabets are common in the wild; accept them as well.
    text = text.replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed("base64Data", "is not valid base64") from None
    if not data:
        raise ValidationFailed("base64Data", "decodes to an empty file")
    if len(data) > max_bytes:
        raise ValidationFailed("base64Data", f"decodes to more than the {max_bytes}-byte limit")
    return Base64Payload(data, declared)


def sniff_mime(head: bytes) -> str | None:
    """The image, video or audio type the first bytes announce, if any."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[4:8] == b"ftyp":
        if head[8:11] == b"M4A":
            return "audio/mp4"
        return "video/quicktime" if head[8:10] == b"qt" else "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"fLaC"):
        return "audio/flac"
    return None


def mime_type(head: bytes, name: str | None, declared: str | None = None) -> str:
    """Images and videos by their content; otherwise by name, then as declared."""
    sniffed = sniff_mime(head)
    if sniffed:
        return sniffed
    guessed = mimetypes.guess_type(name)[0] if name else None
    if guessed:
        return guessed
    if declared and re.fullmatch(r"[\w.+-]+/[\w.+-]+", declared):
        return declared.lower()
    return "application/octet-stream"


def _safe_segment(segment: str) -> bool:
    try:
        check_key(segment)
    except InvalidBlobKey:
        return False
    return True
