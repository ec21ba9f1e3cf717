"""`basic-pitch`: audio_to_midi with Spotify's basic-pitch model (ICASSP 2022), via onnxruntime.

The trained model ships inside the basic-pitch wheel (`nmp.onnx`, 230 KB).
basic-pitch's own Python code needs TensorFlow (which pins numpy<2) on Linux,
so it is installed without its dependencies and never imported: this module
loads only the ONNX file and re-implements the small pre- and post-processing
of basic-pitch 0.4 (`inference.py`, `note_creation.py`) in numpy:

- each clip is mixed to mono and resampled to 22 050 Hz, cut into 2-s
  windows (43 844 samples) overlapping by 30 frames, after 15 frames of
  leading zeros, and run in batches;
- the note and onset posteriorgrams (86 frames/s, 88 keys from A0) are
  unwrapped (half the overlap dropped on each side of every window);
- notes are decoded as basic-pitch's `output_to_notes_polyphonic` does, with
  its defaults: onsets (the model's, plus those inferred from rises of the
  note map) that peak above `onset_threshold` start a note, which lasts while
  the note map stays above `frame_threshold` (11 frames of tolerance); notes
  of `min_note_ms` or less are dropped; then the "melodia trick" turns what
  energy is left into notes too. Velocity is the note's mean activation (0-1).

It is polyphonic (chords give all their notes). Pitch bends are not
reported (KIE's MIDI shape has none). Stems named drums or percussion are
not pitched: they are transcribed into kick/snare/hi-hat hits by the
synthetic engine's onset detector (`synthetic/music/transcribe.py`), since
basic-pitch is trained on pitched instruments only. Instruments are named by
their stem as the synthetic engine names them (vocals -> "Voice Oohs"...).

Runs in the worker's process (onnxruntime releases the GIL; the model is
small), not in a child: a 3-min stem takes ~1.5 s on 2 CPU cores.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from reelserve.engines.base import (
    Audio,
    Capability,
    Engine,
    EngineError,
    EngineRequest,
    ProgressFn,
    TextOutput,
)
from reelserve.engines.music.config import BasicPitchConfig
from reelserve.engines.music.weights import basic_pitch_model
from reelserve.engines.synthetic.music.transcribe import (
    GM_NAMES,
    SILENCE,
    drum_notes,
    resample,
    stem_role,
)

Floats = npt.NDArray[np.float32]

SAMPLE_RATE = 22050
FFT_HOP = 256
ANNOTATIONS_FPS = SAMPLE_RATE // FFT_HOP
ANNOT_N_FRAMES = ANNOTATIONS_FPS * 2
WINDOW = SAMPLE_RATE * 2 - FFT_HOP
"""Samples per model call: 43 844."""
OVERLAP_FRAMES = 30
OVERLAP = OVERLAP_FRAMES * FFT_HOP
HOP = WINDOW - OVERLAP
MIDI_OFFSET = 21
"""Key 0 of the model's 88 is A0, MIDI 21."""
N_KEYS = 88
ENERGY_TOL = 11
BATCH = 8
INPUT = "serving_default_input_2:0"
NOTE = "StatefulPartitionedCall:1"
ONSET = "StatefulPartitionedCall:2"
WINDOW_OFFSET = (FFT_HOP / SAMPLE_RATE) * (ANNOT_N_FRAMES - WINDOW / FFT_HOP) + 0.0018
"""basic-pitch's correction of frame times per window (its "magic number" included)."""


class BasicPitchEngine(Engine):
    name = "basic-pitch"
    capabilities = frozenset({Capability.AUDIO_TO_MIDI})
    description = "basic-pitch (Spotify, ONNX through onnxruntime): polyphonic audio to MIDI"

    def __init__(self, config: BasicPitchConfig) -> None:
        self.config = config
        self.session: Any = None
        self.loads = 0
        self.info: dict[str, Any] = {}
        self.last_pipeline_s = 0.0

    def setup(self) -> None:
        import onnxruntime as ort  # type: ignore[import-untyped]

        path = basic_pitch_model(self.config)
        options = ort.SessionOptions()
        if self.config.threads:
            options.intra_op_num_threads = self.config.threads
        started = time.perf_counter()
        try:
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise EngineError(f"engine basic-pitch could not load {path}: {exc}") from None
        names = {o.name for o in session.get_outputs()}
        if [i.name for i in session.get_inputs()] != [INPUT] or not {NOTE, ONSET} <= names:
            raise EngineError(f"{path} is not basic-pitch's nmp model (inputs/outputs differ)")
        self.session = session
        self.loads += 1
        self.info = {
            "pipeline": "basic-pitch nmp (onnxruntime)",
            "device": "cpu",
            "dtype": "float32",
            "model": str(path),
            "load_s": time.perf_counter() - started,
            "loads": self.loads,
        }

    def run(self, request: EngineRequest, progress: ProgressFn) -> TextOutput:
        if self.session is None:
            self.setup()
        clips = list(request.clips) or ([request.audio] if request.audio is not None else [])
        if not clips:
            raise EngineError("audio_to_midi needs the stems to transcribe", 400)
        names = [str(n) for n in request.params.get("clip_names") or ()]
        names += ["other"] * (len(clips) - len(names))
        total = sum(max(1, len(c.samples)) for c in clips)
        done = 0
        instruments: list[dict[str, Any]] = []
        pipeline_s = 0.0
        for clip, name in zip(clips, names, strict=False):
            role = stem_role(name)
            mono = _mono(clip)
            share = max(1, len(clip.samples)) / total

            def part(fraction: float, base: float = done / total, share: float = share) -> None:
                progress(min(1.0, base + share * fraction))

            if len(mono) and float(np.abs(mono).max()) >= SILENCE:
                if role in ("drums", "percussion"):
                    notes = [n.as_json() for n in drum_notes(mono, clip.sample_rate)]
                else:
                    started = time.perf_counter()
                    notes = self.transcribe(mono, clip.sample_rate, part)
                    pipeline_s += time.perf_counter() - started
                name_ = GM_NAMES.get(role, GM_NAMES["keyboard"])
                instruments.append({"name": name_, "notes": notes})
            done += max(1, len(clip.samples))
            progress(done / total)
        self.last_pipeline_s = pipeline_s
        return TextOutput({"instruments": instruments})

    def transcribe(
        self, mono: npt.NDArray[np.float64], rate: int, progress: Callable[[float], None]
    ) -> list[dict[str, Any]]:
        """The notes of one clip (mono, any rate), in KIE's shape, by start then pitch."""
        audio = resample(mono, rate, SAMPLE_RATE).astype(np.float32)
        frames, onsets = self.posteriorgrams(audio, progress)
        min_frames = round(self.config.min_note_ms / 1000 * (SAMPLE_RATE / FFT_HOP))
        events = decode_notes(
            frames, onsets, self.config.onset_threshold, self.config.frame_threshold, min_frames
        )
        times = frame_times(len(frames))
        notes = [
            {
                "pitch": pitch,
                "start": round(float(times[start]), 4),
                "end": round(float(times[end]), 4),
                "velocity": round(float(amplitude), 4),
            }
            for start, end, pitch, amplitude in events
        ]
        notes.sort(key=lambda n: (n["start"], n["pitch"]))
        return notes

    def posteriorgrams(
        self, audio: Floats, progress: Callable[[float], None]
    ) -> tuple[Floats, Floats]:
        """The note and onset maps (frames, 88) of 22 050 Hz mono `audio`."""
        padded = np.concatenate([np.zeros(OVERLAP // 2, np.float32), audio])
        starts = list(range(0, len(padded), HOP))
        notes: list[Floats] = []
        onsets: list[Floats] = []
        for first in range(0, len(starts), BATCH):
            batch = np.zeros((len(starts[first : first + BATCH]), WINDOW, 1), np.float32)
            for row, start in enumerate(starts[first : first + BATCH]):
                window = padded[start : start + WINDOW]
                batch[row, : len(window), 0] = window
            note, onset = self.session.run([NOTE, ONSET], {INPUT: batch})
            notes.append(note)
            onsets.append(onset)
            progress(min(len(starts), first + BATCH) / len(starts))
        count = math.floor(len(audio) * (ANNOTATIONS_FPS / SAMPLE_RATE))
        return _unwrap(np.concatenate(notes), count), _unwrap(np.concatenate(onsets), count)


def _mono(clip: Audio) -> npt.NDArray[np.float64]:
    samples = clip.samples
    if samples.ndim == 2:
        return np.asarray(samples.mean(axis=1, dtype=np.float64))
    return np.asarray(samples, dtype=np.float64)


def _unwrap(output: Floats, count: int) -> Floats:
    half = OVERLAP_FRAMES // 2
    trimmed = output[:, half:-half, :]
    flat: Floats = trimmed.reshape(-1, trimmed.shape[2])[:count]
    return flat


def frame_times(count: int) -> npt.NDArray[np.float64]:
    """Seconds of each unwrapped frame (basic-pitch's `model_frames_to_time`)."""
    index = np.arange(count)
    times: npt.NDArray[np.float64] = index * FFT_HOP / SAMPLE_RATE - WINDOW_OFFSET * np.floor(
        index / ANNOT_N_FRAMES
    )
    return times


def inferred_onsets(onsets: Floats, frames: Floats, n_diff: int = 2) -> Floats:
    """The model's onsets, or rises of the note map where larger (basic-pitch's rescaled diffs)."""
    diffs = []
    for n in range(1, n_diff + 1):
        shifted = np.concatenate([np.zeros((n, frames.shape[1]), frames.dtype), frames])
        diffs.append(shifted[n:, :] - shifted[:-n, :])
    frame_diff = np.min(diffs, axis=0)
    frame_diff[frame_diff < 0] = 0
    frame_diff[:n_diff, :] = 0
    top = float(np.max(frame_diff)) if frame_diff.size else 0.0
    if top > 0:
        frame_diff = float(np.max(onsets)) * frame_diff / top
    result: Floats = np.maximum(onsets, frame_diff)
    return result


def decode_notes(
    frames: Floats,
    onsets: Floats,
    onset_threshold: float,
    frame_threshold: float,
    min_frames: int,
    melodia: bool = True,
) -> list[tuple[int, int, int, float]]:
    """(start frame, end frame, MIDI pitch, amplitude) per note (`output_to_notes_polyphonic`)."""
    n_frames = len(frames)
    if n_frames < 3:
        return []
    onsets = inferred_onsets(onsets, frames)
    # Peaks along time (scipy.signal.argrelmax, axis 0: strictly above both neighbours).
    peak = np.zeros(onsets.shape, dtype=bool)
    peak[1:-1] = (onsets[1:-1] > onsets[:-2]) & (onsets[1:-1] > onsets[2:])
    times, keys = np.nonzero(peak & (onsets >= onset_threshold))
    order = np.lexsort((keys, times))[::-1]  # backwards in time, as basic-pitch does
    remaining = np.array(frames, dtype=np.float64)
    events: list[tuple[int, int, int, float]] = []
    top = N_KEYS - 1
    for start, key in zip(times[order].tolist(), keys[order].tolist(), strict=True):
        if start >= n_frames - 1:
            continue
        i, k = start + 1, 0
        while i < n_frames - 1 and k < ENERGY_TOL:
            k = k + 1 if remaining[i, key] < frame_threshold else 0
            i += 1
        i -= k
        if i - start <= min_frames:
            continue
        remaining[start:i, max(0, key - 1) : min(top, key + 1) + 1] = 0
        events.append((start, i, key + MIDI_OFFSET, float(np.mean(frames[start:i, key]))))
    if melodia:
        events += _melodia(frames, remaining, frame_threshold, min_frames)
    return events


def _melodia(
    frames: Floats, remaining: npt.NDArray[np.float64], frame_threshold: float, min_frames: int
) -> list[tuple[int, int, int, float]]:
    """Notes from the energy left after the onset pass, loudest first (the "melodia trick")."""
    n_frames = len(frames)
    top = N_KEYS - 1
    events: list[tuple[int, int, int, float]] = []
    while float(np.max(remaining)) > frame_threshold:
        middle, key = (int(v) for v in np.unravel_index(np.argmax(remaining), remaining.shape))
        remaining[middle, key] = 0
        band = slice(max(0, key - 1), min(top, key + 1) + 1)
        i, k = middle + 1, 0
        while i < n_frames - 1 and k < ENERGY_TOL:
            k = k + 1 if remaining[i, key] < frame_threshold else 0
            remaining[i, band] = 0
            i += 1
        end = i - 1 - k
        i, k = middle - 1, 0
        while i > 0 and k < ENERGY_TOL:
            k = k + 1 if remaining[i, key] < frame_threshold else 0
            remaining[i, band] = 0
            i -= 1
        start = i + 1 + k
        if end - start <= min_frames:
            continue
        events.append((start, end, key + MIDI_OFFSET, float(np.mean(frames[start:end, key]))))
    return events
