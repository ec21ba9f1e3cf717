"""Instrument voices: wavetable notes with envelopes, and synthesised drum hits.

Not samples of real instruments and not AI: each pitched part is one
2048-point single-cycle wavetable (a fixed harmonic recipe: a bass's few
harmonics, a piano-ish decaying tone, a plucked guitar's bright spectrum, a
detuned saw lead, slow-attack strings, brass and a flute), read at the
note's frequency and shaped by an attack/decay/release envelope. Drums are
synthesised once per render (a pitch-swept sine kick, noise snares, clap,
hats and cymbals from differentiated noise) and added at their hit times.

Speed: a note's buffer depends only on (part, pitch, length in samples), and
a song repeats its chords and bass notes bar after bar, so buffers are cached
per render; a note is then one slice add. Everything is float32.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from reelserve.engines.synthetic.dsp import seeded_rng

F32 = npt.NDArray[np.float32]
TABLE = 2048


@dataclass(frozen=True)
class Timbre:
    """Harmonic amplitudes and an envelope: attack, decay time constant, sustain, release (s)."""

    harmonics: tuple[float, ...]
    attack: float
    decay: float
    sustain: float
    release: float
    detune: float = 0.0  # a second oscillator this far above (ratio - 1), for width


TIMBRES: dict[str, Timbre] = {
    "bass": Timbre((1.0, 0.55, 0.3, 0.12, 0.06), 0.005, 0.5, 0.55, 0.04),
    "keyboard": Timbre((1.0, 0.45, 0.22, 0.12, 0.07, 0.04, 0.02), 0.003, 0.9, 0.25, 0.15),
    "guitar": Timbre(
        tuple(0.9 / k * (1.0 - 0.4 * (k % 2 == 0)) for k in range(1, 13)), 0.002, 0.35, 0.12, 0.08
    ),
    "synth": Timbre(tuple(1.0 / k for k in range(1, 15)), 0.01, 0.4, 0.7, 0.08, detune=0.006),
    "strings": Timbre(
        tuple(1.0 / k**1.3 for k in range(1, 11)), 0.25, 2.0, 0.9, 0.35, detune=0.004
    ),
    "brass": Timbre((1.0, 0.85, 0.65, 0.45, 0.3, 0.2, 0.12, 0.06), 0.04, 0.6, 0.75, 0.08),
    "woodwinds": Timbre((1.0, 0.25, 0.12, 0.04), 0.06, 1.0, 0.85, 0.1),
}
PITCHED = tuple(TIMBRES)


def _table(harmonics: Sequence[float]) -> F32:
    phase = np.arange(TABLE) / TABLE
    wave = sum(a * np.sin(2 * np.pi * (k + 1) * phase) for k, a in enumerate(harmonics))
    wave = np.asarray(wave, dtype=np.float64)
    result: F32 = (wave / np.abs(wave).max()).astype(np.float32)
    return result


_TABLES = {name: _table(t.harmonics) for name, t in TIMBRES.items()}


def midi_hz(pitch: float) -> float:
    return float(440.0 * 2.0 ** ((pitch - 69.0) / 12.0))


class NoteRenderer:
    """Renders and caches note buffers of one part at one sample rate."""

    def __init__(self, part: str, rate: int) -> None:
        self.part = part
        self.rate = rate
        self.timbre = TIMBRES[part]
        self.table = _TABLES[part]
        self._cache: dict[tuple[float, int], F32] = {}

    def note(self, pitch: float, held: int) -> F32:
        """The unit-velocity buffer of a note held `held` samples (plus its release)."""
        key = (pitch, held)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._render(pitch, held)
            self._cache[key] = cached
        return cached

    def _render(self, pitch: float, held: int) -> F32:
        t = self.timbre
        rate = self.rate
        release = max(1, round(t.release * rate))
        n = held + release
        index = np.arange(n, dtype=np.float32)
        step = np.float32(midi_hz(pitch) * TABLE / rate)
        wave = self.table[(index * step).astype(np.int64) & (TABLE - 1)]
        if t.detune:
            wave = (
                0.6 * wave
                + 0.4
                * self.table[
                    (index * (step * np.float32(1.0 + t.detune))).astype(np.int64) & (TABLE - 1)
                ]
            )
        result: F32 = (wave * self._envelope(held, release)).astype(np.float32)
        return result

    def _envelope(self, held: int, release: int) -> F32:
        t = self.timbre
        rate = self.rate
        secs = np.arange(held, dtype=np.float32) / np.float32(rate)
        attack = np.minimum(secs / np.float32(max(t.attack, 1e-4)), np.float32(1.0))
        decay = t.sustain + (1.0 - t.sustain) * np.exp(-secs / np.float32(t.decay))
        body = (attack * decay).astype(np.float32)
        last = float(body[-1]) if held else 0.0
        tail = last * np.linspace(1.0, 0.0, release, dtype=np.float32) ** 2
        return np.concatenate([body, tail]).astype(np.float32)


def render_notes(part: str, notes: Sequence[Sequence[float]], rate: int, n: int) -> F32:
    """A pitched part's notes into `n` samples (float32, mono; tails past `n` are cut)."""
    out = np.zeros(n, dtype=np.float32)
    renderer = NoteRenderer(part, rate)
    for pitch, start, end, velocity in notes:
        a = round(start * rate)
        held = max(1, round(end * rate) - a)
        if a >= n:
            continue
        buffer = renderer.note(float(pitch), held)
        b = min(n, a + len(buffer))
        out[a:b] += np.float32(velocity) * buffer[: b - a]
    return out


def drum_hit(pitch: int, rate: int, seed: int) -> F32:
    """One synthesised hit of GM drum `pitch` (36 kick ... 51 ride), unit peak."""
    rng = seeded_rng("drum", pitch, seed)
    seconds = {36: 0.35, 37: 0.08, 38: 0.25, 39: 0.3, 42: 0.06, 46: 0.35, 49: 1.6, 51: 0.7}
    n = round(seconds.get(pitch, 0.2) * rate)
    t = np.arange(n, dtype=np.float64) / rate
    noise = rng.standard_normal(n)
    bright = np.diff(np.diff(noise, prepend=0.0), prepend=0.0)
    if pitch == 36:
        freq = 45.0 + 95.0 * np.exp(-t * 28.0)
        hit = np.sin(2 * np.pi * np.cumsum(freq) / rate) * np.exp(-t * 7.0)
        hit += 0.3 * noise * np.exp(-t * 400.0)
    elif pitch in (38, 37):
        tone = np.sin(2 * np.pi * 185.0 * t) * np.exp(-t * 25.0)
        hit = 0.6 * tone + 0.5 * np.diff(noise, prepend=0.0) * np.exp(-t * 16.0)
    elif pitch == 39:
        bursts = sum(np.exp(-np.maximum(t - d, 0) * 120.0) * (t >= d) for d in (0.0, 0.011, 0.022))
        hit = np.diff(noise, prepend=0.0) * (0.6 * np.asarray(bursts) + 0.4 * np.exp(-t * 14.0))
    elif pitch == 42:
        hit = bright * np.exp(-t * 70.0)
    elif pitch == 46:
        hit = bright * np.exp(-t * 9.0)
    elif pitch == 49:
        hit = bright * np.exp(-t * 2.6)
    elif pitch == 51:
        partials = sum(np.sin(2 * np.pi * f * t) for f in (3100.0, 4270.0, 5330.0))
        hit = (0.5 * bright + 0.3 * np.asarray(partials)) * np.exp(-t * 6.0)
    else:
        hit = np.sin(2 * np.pi * 110.0 * t) * np.exp(-t * 12.0)
    hit = hit / max(float(np.abs(hit).max()), 1e-9)
    gains = {36: 1.0, 37: 0.4, 38: 0.8, 39: 0.7, 42: 0.3, 46: 0.3, 49: 0.35, 51: 0.25}
    result: F32 = (hit * gains.get(pitch, 0.5)).astype(np.float32)
    return result


def render_drums(notes: Sequence[Sequence[float]], rate: int, n: int, seed: int) -> F32:
    """Drum hits (GM pitches) at their start times into `n` samples."""
    out = np.zeros(n, dtype=np.float32)
    hits: dict[int, F32] = {}
    for pitch, start, _end, velocity in notes:
        a = round(start * rate)
        if a >= n:
            continue
        key = int(pitch)
        if key not in hits:
            hits[key] = drum_hit(key, rate, seed)
        buffer = hits[key]
        b = min(n, a + len(buffer))
        out[a:b] += np.float32(velocity) * buffer[: b - a]
    return out
