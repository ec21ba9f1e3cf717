"""`reelserve engines check` for the music engines: one tiny separation or transcription."""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from reelserve.engines.base import (
    Audio,
    Capability,
    Engine,
    EngineRequest,
    MusicOutput,
    StemsOutput,
    TextOutput,
)
from reelserve.engines.isolated import IsolatedEngine

OPERATIONS = (Capability.SEPARATE_STEMS, Capability.AUDIO_TO_MIDI, Capability.TEXT_TO_MUSIC)
LYRICS = "[Verse]\nCheck one two, the engine sings\nCheck one two, and off it goes"
RATE = 44100


def tone(seconds: int) -> Audio:
    """A stereo A4 (440 Hz) at half scale: the input of every music check."""
    t = np.arange(seconds * RATE) / RATE
    x = (0.5 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)
    return Audio(np.stack([x, x], axis=1), RATE)


def check_music_engine(engine: Engine, name: str, seconds: int) -> str | None:
    """The `engines check` line of a music engine; None when it has no music check."""
    operation = next((op for op in OPERATIONS if op in engine.capabilities), None)
    if operation is None:
        return None
    audio = tone(seconds)
    request = EngineRequest(
        operation=operation,
        prompt="",
        audio=audio,
        clips=[audio],
        count=1,
        duration_s=float(seconds),
        sample_rate=RATE,
        params={
            "mode": "split_stem",
            "clip_names": ["vocals"],
            "custom": True,
            "style": "synth pop, 120 bpm",
            "title": "Check",
        },
    )
    if operation is Capability.TEXT_TO_MUSIC:
        request = dataclasses.replace(request, prompt=LYRICS, audio=None, clips=[])
    started = time.perf_counter()
    output = engine.run(request, lambda _: None)
    elapsed = time.perf_counter() - started
    pipeline = _pipeline(engine)
    if isinstance(output, MusicOutput):
        tracks = list(output.tracks)  # rendered here, as the server consumes them
        elapsed = time.perf_counter() - started
        lengths = ", ".join(f"{t.audio.seconds:.2f} s" for t in tracks)
        return (
            f"{name}: {operation.value}, {len(tracks)} track ({lengths} at "
            f"{tracks[0].audio.sample_rate} Hz) in {elapsed:.2f} s{_pipeline(engine)}"
        )
    if isinstance(output, StemsOutput):
        names = ", ".join(output.stems)
        length = min(a.seconds for a in output.stems.values()) if output.stems else 0.0
        return (
            f"{name}: {operation.value}, {len(output.stems)} stems ({names}) of {length:.2f} s "
            f"in {elapsed:.2f} s{pipeline}"
        )
    if isinstance(output, TextOutput):
        notes = [n for i in output.data.get("instruments", []) for n in i.get("notes", [])]
        pitches = sorted({int(n["pitch"]) for n in notes})
        return (
            f"{name}: {operation.value}, {len(notes)} notes (pitches {pitches}) from a "
            f"{seconds} s 440 Hz tone in {elapsed:.2f} s"
        )
    return f"{name}: {operation.value} returned {type(output).__name__}"


def _pipeline(engine: Engine) -> str:
    if isinstance(engine, IsolatedEngine):
        return f" (pipeline {engine.stats.last_pipeline_s:.2f} s)"
    return ""
