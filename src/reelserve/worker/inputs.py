"""The sources of a task of any kind (market models): fetched, checked and decoded.

A source is stored on the task at submit as `{"field", "index", "kind", "role",
"url" | "blob", "mime", "accept", "max_bytes"}` (data: URIs are already blobs).
Here each is read (the URL guard, size caps and own-URL shortcut of
`worker/sources.py` apply), its type checked against the model's `x-accept`
and `x-max-mb`, and decoded: images to RGB frames, audio to samples, videos
to a file the video planner decodes. A source that cannot be fetched or is
not what the model takes fails the task with failCode 400 and the spec §5
message.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reelserve.blobs.base import BlobNotFound, BlobStore
from reelserve.engines.base import Audio, Frame
from reelserve.media.decode import ImageFormatError, decode_image
from reelserve.settings import Settings
from reelserve.uploads.rules import sniff_mime
from reelserve.worker.failures import GET_IMAGE_FAILED, INCORRECT_IMAGE_FORMAT, TaskFailure
from reelserve.worker.jobs import Exempt
from reelserve.worker.sources import read_source

GET_VIDEO_FAILED = "Get video info failed"
GET_AUDIO_FAILED = "Get audio info failed"
INCORRECT_AUDIO_FORMAT = "Incorrect audio format"
INCORRECT_VIDEO_FORMAT = "Incorrect video format"

_FETCH_FAILED = {"image": GET_IMAGE_FAILED, "video": GET_VIDEO_FAILED, "audio": GET_AUDIO_FAILED}
_BAD_FORMAT = {
    "image": INCORRECT_IMAGE_FORMAT,
    "video": INCORRECT_VIDEO_FORMAT,
    "audio": INCORRECT_AUDIO_FORMAT,
}


@dataclass
class Inputs:
    """A task's decoded sources, by role, in the order the client gave them."""

    images: list[tuple[str, Frame]] = field(default_factory=list)
    """(role, RGB frame): image, first_frame, last_frame, reference, mask."""
    videos: list[tuple[str, Path]] = field(default_factory=list)
    audio: list[tuple[str, Audio]] = field(default_factory=list)
    digests: list[str] = field(default_factory=list)
    """One per source, for the derived seed."""

    def image(self, *roles: str) -> Frame | None:
        for role, frame in self.images:
            if role in roles:
                return frame
        return None

    def images_except(self, *roles: str) -> list[Frame]:
        return [frame for role, frame in self.images if role not in roles]


async def source_bytes(
    source: dict[str, Any], settings: Settings, blobs: BlobStore, exempt: Exempt
) -> bytes:
    kind = str(source.get("kind") or "image")
    fail_msg = _FETCH_FAILED.get(kind, GET_IMAGE_FAILED)
    limit = int(source.get("max_bytes") or 0) or None
    if "blob" in source:
        try:
            data = await blobs.get_bytes(source["blob"])
        except BlobNotFound:
            raise TaskFailure(fail_msg, detail="the stored input is gone") from None
    else:
        data = await read_source(
            source["url"], settings, blobs, fail_msg=fail_msg, exempt=exempt, limit=limit
        )
    if limit and len(data) > limit:
        raise TaskFailure(
            f"{fail_msg}: the file is larger than {limit / 2**20:g} MB", detail=f"{len(data)} B"
        )
    return data


def check_type(source: dict[str, Any], data: bytes) -> str:
    """The sniffed MIME type; a type the model does not take fails the task (400)."""
    kind = str(source.get("kind") or "image")
    mime = sniff_mime(data) or ""
    accept = [str(a).lower() for a in source.get("accept") or ()]
    family_ok = mime.startswith(f"{kind}/") or (kind == "video" and mime == "image/gif")
    if kind == "audio" and mime in ("video/mp4", "video/webm", "video/quicktime"):
        family_ok = True  # an audio track in an MP4/WebM container (m4a)
    allowed = not accept or _accepted(mime, accept)
    if not mime or not family_ok or not allowed:
        wanted = ", ".join(accept) if accept else f"a {kind} file"
        raise TaskFailure(
            _BAD_FORMAT.get(kind, INCORRECT_IMAGE_FORMAT),
            detail=f"{source.get('field')}: got {mime or 'unknown data'}, expected {wanted}",
        )
    return mime


def _accepted(mime: str, accept: list[str]) -> bool:
    aliases = {"image/jpg": "image/jpeg", "audio/mp3": "audio/mpeg", "audio/x-wav": "audio/wav"}
    mime = aliases.get(mime, mime)
    for item in accept:
        item = aliases.get(item, item)
        if item == mime or (item.endswith("/*") and mime.startswith(item[:-1])):
            return True
    # Containers FFmpeg and Pillow read alike: don't refuse a WAV for being audio/x-wav, etc.
    return mime.split("/")[0] in {a.split("/")[0] for a in accept} and mime in _LENIENT


_LENIENT = {"audio/wav", "audio/x-wav", "audio/mpeg", "audio/mp4", "audio/aac", "audio/ogg"}


async def load_inputs(
    sources: list[dict[str, Any]],
    settings: Settings,
    blobs: BlobStore,
    out_dir: Path,
    exempt: Exempt,
) -> Inputs:
    """Every source read and decoded (videos written to `out_dir` for the planner)."""
    import hashlib

    from reelserve.media.audio import decode_audio

    inputs = Inputs()
    for number, source in enumerate(sources):
        data = await source_bytes(source, settings, blobs, exempt)
        check_type(source, data)
        inputs.digests.append(hashlib.sha256(data).hexdigest())
        kind, role = str(source.get("kind")), str(source.get("role") or source.get("kind"))
        if kind == "image":
            try:
                frame = await asyncio.to_thread(decode_image, data)
            except ImageFormatError as exc:
                raise TaskFailure(INCORRECT_IMAGE_FORMAT, detail=str(exc)) from None
            inputs.images.append((role, frame))
        elif kind == "audio":
            try:
                clip = await asyncio.to_thread(decode_audio, data)
            except Exception as exc:  # FFmpeg's errors have no common base worth naming
                raise TaskFailure(INCORRECT_AUDIO_FORMAT, detail=str(exc)) from None
            inputs.audio.append((role, clip))
        else:
            path = out_dir / f"source-{number}"
            await asyncio.to_thread(path.write_bytes, data)
            inputs.videos.append((role, path))
    return inputs
