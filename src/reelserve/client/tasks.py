"""What `Task` and `AsyncTask` share: the kinds of task and how each is polled."""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any, Literal
from urllib.parse import urlsplit

from reelserve.client import endpoints
from reelserve.client.calls import Call
from reelserve.client.errors import ReelserveError
from reelserve.client.models import TaskRecord
from reelserve.client.suno_models import MusicRecord

TaskKind = Literal[
    "runway",
    "aleph",
    "market",
    "veo",
    "gpt4o",
    "flux",
    "suno",
    "suno_lyrics",
    "suno_wav",
    "suno_stems",
    "suno_midi",
    "suno_mp4",
    "suno_cover",
]
"""`suno` is a song task (generate, extend, uploads, add-*, replace-section, mashup,
sounds); the other `suno_*` kinds are the family's lyrics, WAV, stems, MIDI, music
video and cover-art tasks, each read on its own record-info."""


def get_call(kind: TaskKind, task_id: str) -> Call[TaskRecord]:
    if kind in endpoints.SUNO_RECORDS:
        return endpoints.suno_get(kind, task_id)
    if kind == "runway":
        return endpoints.runway_get(task_id)  # type: ignore[return-value]
    if kind == "aleph":
        return endpoints.aleph_get(task_id)  # type: ignore[return-value]
    if kind == "veo":
        return endpoints.veo_get(task_id)  # type: ignore[return-value]
    if kind == "gpt4o":
        return endpoints.gpt4o_get(task_id)  # type: ignore[return-value]
    if kind == "flux":
        return endpoints.flux_get(task_id)  # type: ignore[return-value]
    return endpoints.jobs_get(task_id)  # type: ignore[return-value]


def temp_path_for(target: Path) -> Path:
    """A sibling file to stream into, renamed over `target` once complete."""
    target.parent.mkdir(parents=True, exist_ok=True)
    return target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")


def _suffix(url: str, default: str) -> str:
    suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
    return suffix if suffix and len(suffix) <= 6 else default


def track_files(record: MusicRecord, directory: Path, covers: bool) -> list[tuple[str, Path]]:
    """(URL, file) for each track's audio (`<track id>.mp3`) and, with `covers`, its cover
    art (`<track id>.jpeg`/`.png`, as the URL says), in track order."""
    files: list[tuple[str, Path]] = []
    for index, track in enumerate(record.tracks):
        name = track.id or f"{record.task_id}-{index + 1}"
        if track.audio_url:
            files.append((track.audio_url, directory / f"{name}{_suffix(track.audio_url, '.mp3')}"))
        if covers and track.image_url:
            files.append((track.image_url, directory / f"{name}{_suffix(track.image_url, '.jpg')}"))
    return files


def media_url(record: TaskRecord) -> str:
    """The file `download` saves; an error for a task that has none (MIDI, lyrics)."""
    if not record.video_url:
        raise ReelserveError(f"task {record.task_id} has no file to download")
    return record.video_url


def like(method: Callable[..., Any], build: Callable[..., Any], returns: str) -> None:
    """Give a method bound from a `Call` builder the builder's name, docstring and
    parameters (after `self`), so `help()` and IDEs show them."""
    signature = inspect.signature(build)
    this = inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)
    method.__name__ = method.__qualname__ = build.__name__.removeprefix("suno_")
    method.__doc__ = build.__doc__
    setattr(  # noqa: B010 - functions have no typed __signature__
        method,
        "__signature__",
        signature.replace(
            parameters=[this, *signature.parameters.values()], return_annotation=returns
        ),
    )
