"""`reelserve engines check` for the music engines: one tiny separation or transcription."""

from __future__ import annotations

import time

import numpy as np

from reelserve.engines.base import (
    Audio,
    Capability,
    Engine,
    EngineRequest,
    StemsOutput,
    TextOutput,
)
from reelserve.engines.isolated import IsolatedEngine

OPERATIONS = (Capability.SEPARATE_STEMS, Capability.AUDIO_TO_MIDI)
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
        params={"mode": "split_stem", "clip_names": ["vocals"]},
    )
    started = time.perf_counter()
    output = engine.run(request, lambda _: None)
    elapsed = time.perf_counter() - started
    pipeline = ""
    if isinstance(engine, IsolatedEngine):
        pipeline = f" (pipeline {engine.stats.last_pipeline_s:.2f} s)"
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
