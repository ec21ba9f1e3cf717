"""The Suno family's callback bodies, by task family (notes §4.3, §4.10–§4.13, §6)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reelserve.blobs.links import MediaLinks
from reelserve.families.suno import derived_views as dv
from reelserve.families.suno.views import music_payload, stage_of
from reelserve.tasks.models import Dialect, Task

PAYLOADS: dict[Dialect, Callable[[Task, MediaLinks], dict[str, Any]]] = {
    Dialect.SUNO: music_payload,
    Dialect.SUNO_LYRICS: dv.lyrics_payload,
    Dialect.SUNO_WAV: dv.wav_payload,
    Dialect.SUNO_STEMS: dv.stems_payload,
    Dialect.SUNO_MIDI: dv.midi_payload,
    Dialect.SUNO_MP4: dv.mp4_payload,
    Dialect.SUNO_COVER: dv.cover_payload,
}


def suno_payload(task: Task, links: MediaLinks) -> dict[str, Any] | None:
    """The callback of a Suno task (a song: of its current stage); None for other families."""
    build = PAYLOADS.get(task.dialect)
    return build(task, links) if build is not None else None


def suno_stage(task: Task) -> str:
    """A song's delivery stage (`text`, `first`, `complete`; "error" on failure), else ""."""
    if task.dialect is not Dialect.SUNO:
        return ""
    return stage_of(task) or ("error" if task.status.finished else "")
