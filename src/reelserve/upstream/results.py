"""An upstream task's results as this server's files: each downloaded, checked by decoding
it as its kind, and listed as the artifact the family's views read (`wire.Output.role`).

The files are kept here (`worker/loop.py` stores them under the task's media
folder), so clients get this server's signed URLs, its retention, and files
that outlive the upstream's copies (KIE's links expire). A Runway or Aleph
video without a cover from the upstream gets one drawn from its first frame.
A Suno song's lyric sheet (`sheet`) is built from the upstream's items, with
this server's track ids (`families/suno/rules.track_id`).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from reelserve.families.suno.rules import track_id
from reelserve.media.audio import AudioFormatError, probe_audio
from reelserve.media.decode import VideoFormatError, iter_frames, probe
from reelserve.media.encode import write_png
from reelserve.tasks.models import Artifact, Dialect, Task
from reelserve.upstream.client import UpstreamClient, UpstreamDown
from reelserve.upstream.wire import Output, Reading
from reelserve.worker.produce import Produced

MAX_RESULT_BYTES = 4 * 1024**3
"""The largest result file accepted from an upstream."""

_IMAGE_MIMES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}
_AUDIO_MIMES = {"mp3": "audio/mpeg", "pcm_s16le": "audio/wav", "aac": "audio/mp4"}
_EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "image/gif": "gif",
    "audio/mpeg": "mp3",
    "audio/wav": "wav",
    "audio/mp4": "m4a",
    "video/mp4": "mp4",
}


class ResultFiles:
    """Fetches a reading's outputs into `tmp`, one file each, never one twice."""

    def __init__(self, task: Task, client: UpstreamClient, tmp: Path) -> None:
        self.task = task
        self.client = client
        self.tmp = tmp
        self._fetched: dict[str, tuple[Artifact, Path]] = {}

    async def produced(self, reading: Reading) -> Produced:
        out: Produced = []
        if self.task.dialect is Dialect.SUNO:
            out.append(self.sheet(reading))
        counts: dict[str, int] = {}
        for output in reading.outputs:
            n = counts[output.role] = counts.get(output.role, 0) + 1
            if output.data is not None:
                out.append(self._text(output))
            else:
                out.append(await self._file(output, n, reading))
        coverless = not any(a.role == "cover" for a, _ in out)
        if self.task.dialect in (Dialect.RUNWAY, Dialect.ALEPH) and coverless:
            video = next((p for a, p in out if a.role == "video"), None)
            if video is not None:
                out.append(await asyncio.to_thread(_cover_of, video, self.tmp))
        return out

    def sheet(self, reading: Reading) -> tuple[Artifact, Path]:
        data = {
            "tracks": [
                {
                    "id": track_id(self.task.id, index),
                    "title": str(item.get("title") or ""),
                    "lyrics": str(item.get("prompt") or item.get("lyrics") or ""),
                    "tags": str(item.get("tags") or ""),
                    "upstream_id": str(item.get("id") or ""),
                }
                for index, item in enumerate(reading.tracks)
            ]
        }
        path = self.tmp / "sheets.json"
        path.write_text(json.dumps(data, ensure_ascii=False))
        artifact = Artifact(
            "text", "sheet", path.name, "application/json", bytes=path.stat().st_size, data=data
        )
        return artifact, path

    def _text(self, output: Output) -> tuple[Artifact, Path]:
        path = self.tmp / f"{output.role}.json"
        path.write_text(json.dumps(output.data, ensure_ascii=False))
        artifact = Artifact(
            "text",
            output.role,
            path.name,
            "application/json",
            bytes=path.stat().st_size,
            data=output.data,
        )
        return artifact, path

    async def _file(self, output: Output, n: int, reading: Reading) -> tuple[Artifact, Path]:
        known = self._fetched.get(f"{output.role}:{output.index}:{output.url}")
        if known is not None:
            return known
        path = self.tmp / f"fetch-{len(self._fetched) + 1}"
        content_type = await self.client.download(output.url, path, MAX_RESULT_BYTES)
        artifact = await asyncio.to_thread(_checked, self.client.name, output, path, content_type)
        name = f"{_name(output, n)}.{_EXTENSIONS.get(artifact.mime, 'bin')}"
        final = path.with_name(name)
        path.rename(final)
        artifact = Artifact(
            artifact.kind,
            artifact.role,
            name,
            artifact.mime,
            artifact.width,
            artifact.height,
            artifact.duration,
            final.stat().st_size,
            self._track_data(output, reading),
        )
        self._fetched[f"{output.role}:{output.index}:{output.url}"] = (artifact, final)
        return artifact, final

    def _track_data(self, output: Output, reading: Reading) -> dict[str, Any] | None:
        if output.role == "track_cover":
            return {"index": output.index}
        if output.role != "track":
            return None
        item = reading.tracks[output.index] if output.index < len(reading.tracks) else {}
        return {
            "index": output.index,
            "id": track_id(self.task.id, output.index),
            "title": str(item.get("title") or ""),
            "lyrics": str(item.get("prompt") or ""),
            "tags": str(item.get("tags") or ""),
            "words": [],
            "upstream_id": str(item.get("id") or ""),
        }


def _name(output: Output, n: int) -> str:
    role = output.role
    if role == "video" and n == 1:
        return "video"
    if output.role in ("track", "track_cover"):
        return f"{role}-{output.index}"
    return f"{role}-{n}"


def _checked(upstream: str, output: Output, path: Path, content_type: str) -> Artifact:
    """The file decoded as its kind (else UpstreamDown: the upstream sent something else)."""
    what = f"the upstream's {output.role} file"
    try:
        if output.kind == "video":
            info = probe(path)
            if info.width <= 0:
                raise VideoFormatError("no video stream")
            return Artifact(
                "video", output.role, "", "video/mp4", info.width, info.height, info.duration_s
            )
        if output.kind == "image":
            with Image.open(path) as image:
                image.verify()
            with Image.open(path) as image:
                mime = _IMAGE_MIMES.get(str(image.format), content_type or "image/png")
                return Artifact("image", output.role, "", mime, image.width, image.height)
        if output.kind == "audio":
            audio = probe_audio(path)
            mime = _AUDIO_MIMES.get(audio.codec, content_type.split(";")[0] or "audio/mpeg")
            return Artifact("audio", output.role, "", mime, duration=round(audio.seconds, 3))
    except (VideoFormatError, AudioFormatError, UnidentifiedImageError, OSError) as exc:
        raise UpstreamDown(
            upstream, 502, f"{what} does not decode as {output.kind}: {exc}"
        ) from None
    raise UpstreamDown(upstream, 502, f"{what} is of an unknown kind {output.kind!r}")


def _cover_of(video: Path, tmp: Path) -> tuple[Artifact, Path]:
    frame = next(iter_frames(video, max_frames=1))
    path = tmp / "cover.png"
    write_png(path, frame)
    height, width = frame.shape[:2]
    return Artifact("image", "cover", path.name, "image/png", width, height), path
