"""Rendering a recipe into its parts; the mix is exactly the plain sum of the parts.

A recipe (see `recipe.py` for its keys) holds `layers` — scores (see
`compose.py`) each with a gain and a time window — and, for derived tracks,
`sources`: the inputs (an uploaded or earlier track) placed with a shift,
gain and window. `render_parts(recipe)` renders every part of every layer:
pitched parts from wavetables, drums from synthesised hits, the voice from
its syllables; each part is peak-normalised, then given a fixed gain and pan
from the recipe's `mix` table, the score's fades, the layer's gain and
window, and the recipe's `headroom` scale. No limiter or other non-linear
stage follows, so `sum(render_parts(recipe).values())` is the track.

The sources: with `sources=[Audio...]` (the inputs, at the recipe's rate)
they come back as the part "source", and the sum is then the track exactly.
Without them, a source that was itself made by this engine (its recipe is
nested) is re-rendered part by part, shifted and scaled as it was aligned
when the track was made; an unknown source is left out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from reelserve.engines.base import Audio
from reelserve.engines.synthetic.music.instruments import (
    F32,
    PITCHED,
    render_drums,
    render_notes,
)
from reelserve.engines.synthetic.music.voice import sing

Parts = dict[str, F32]
"""Part name -> float32 (n, 2)."""

MIX: dict[str, tuple[float, float]] = {
    # part: (gain, pan -1 left .. 1 right)
    "vocals": (0.62, 0.0),
    "backing_vocals": (0.22, 0.3),
    "drums": (0.62, 0.0),
    "bass": (0.5, 0.0),
    "keyboard": (0.3, -0.25),
    "guitar": (0.3, 0.3),
    "synth": (0.26, 0.15),
    "strings": (0.24, -0.1),
    "brass": (0.28, 0.2),
    "woodwinds": (0.28, -0.2),
}
_LOOP_TAIL_S = 2.0
_ECHO_S, _ECHO_GAIN = 0.27, 0.18


def render_parts(recipe: Mapping[str, Any], sources: Sequence[Audio] = ()) -> Parts:
    """Every part of `recipe`, float32 (n_samples, 2); their sum is the track (see module doc)."""
    headroom = float(recipe.get("headroom", 1.0))
    return scaled_parts(unscaled_parts(recipe, sources), headroom)


def scaled_parts(parts: Mapping[str, Any], headroom: float) -> Parts:
    """The parts times the recipe's headroom, as float32 (the last step of rendering)."""
    if headroom == 1.0:
        return {name: part.astype(np.float32) for name, part in parts.items()}
    scale = np.float32(headroom)
    return {name: part * scale for name, part in parts.items()}


def unscaled_parts(recipe: Mapping[str, Any], sources: Sequence[Audio] = ()) -> Parts:
    """The parts as float32 (n, 2) before the headroom scale."""
    rate = int(recipe["sample_rate"])
    n = int(recipe["n_samples"])
    parts: Parts = {}
    mix = {**MIX, **{k: (float(v[0]), float(v[1])) for k, v in recipe.get("mix", {}).items()}}
    for layer in recipe.get("layers", []):
        window = _window(layer.get("window"), rate, n).astype(np.float32)
        gain = float(layer.get("gain", 1.0))
        for name, mono in render_score(layer["score"], rate, n).items():
            part_gain, pan = mix.get(name, (0.3, 0.0))
            stereo = _pan(mono * window, pan * 1.0, part_gain * gain)
            parts[name] = parts[name] + stereo if name in parts else stereo
    for entry in recipe.get("sources", []):
        _add_source(parts, entry, sources, rate, n)
    return parts


def mix_of(parts: Mapping[str, F32]) -> F32:
    """The plain sum of the parts in name order (float32), clipped only where it exceeds +-1.

    The track is made to peak at 0.89 (`headroom`), so the clip is a guard, not a limiter.
    """
    names = sorted(parts)
    if not names:
        raise ValueError("no parts")
    total = parts[names[0]].copy()
    for name in names[1:]:
        total += parts[name]
    result: F32 = np.clip(total, -1.0, 1.0, out=total)
    return result


def render_score(score: Mapping[str, Any], rate: int, n: int) -> dict[str, F32]:
    """A score's parts as mono float32 (n,), peak 1 each, with the score's fades."""
    loop = bool(score.get("loop"))
    length = n + (round(_LOOP_TAIL_S * rate) if loop else 0)
    seed = int(score["seed"])
    out: dict[str, np.ndarray[Any, Any]] = {}
    notes: Mapping[str, Sequence[Sequence[float]]] = score.get("notes", {})
    for part, items in notes.items():
        if part in ("vocals", "backing_vocals"):
            continue
        if not items:
            continue
        if part == "drums":
            out[part] = render_drums(items, rate, length, seed).astype(np.float64)
        elif part in PITCHED:
            out[part] = render_notes(part, items, rate, length).astype(np.float64)
    voice = score.get("voice")
    if voice and score.get("syllables"):
        sung = sing(score["syllables"], voice, rate, length, seed)
        out["vocals"] = _echo(sung, rate)
    if voice and score.get("backing_syllables"):
        backing = {**voice, "vibrato_depth": 0.01, "breath": 0.08}
        out["backing_vocals"] = sing(score["backing_syllables"], backing, rate, length, seed + 7)
    fades = _fades(score, rate, n)
    result: dict[str, F32] = {}
    for part, mono in out.items():
        if loop:
            tail = mono[n:]
            mono = mono[:n].copy()
            mono[: len(tail)] += tail
        peak = float(np.abs(mono).max())
        scaled = mono[:n].astype(np.float32) * np.float32(1.0 / peak if peak > 0 else 0.0)
        for lo, hi, ramp in fades:
            scaled[lo:hi] *= ramp
        result[part] = scaled
    return result


def _echo(mono: np.ndarray[Any, Any], rate: int) -> np.ndarray[Any, Any]:
    delay = round(_ECHO_S * rate)
    out = mono.copy()
    if delay < len(mono):
        out[delay:] += _ECHO_GAIN * mono[:-delay]
    return out


def _fades(score: Mapping[str, Any], rate: int, n: int) -> list[tuple[int, int, F32]]:
    """(lo, hi, gains) slices: the fade-in over `fade_in` s from the span's start, the
    fade-out over its last `fade_out` s and silence after the span."""
    start, end = (float(x) for x in score.get("span", [0.0, n / rate]))
    fade_in, fade_out = (float(x) for x in score.get("fades", [0.0, 0.0]))
    out: list[tuple[int, int, F32]] = []
    if fade_in > 0:
        a, b = max(0, round(start * rate)), min(n, round((start + fade_in) * rate))
        if b > a:
            ramp = np.sin(0.5 * np.pi * np.linspace(0.0, 1.0, b - a)) ** 2
            out.append((a, b, ramp.astype(np.float32)))
    if fade_out > 0:
        a, b = max(0, round((end - fade_out) * rate)), min(n, round(end * rate))
        if b > a:
            ramp = np.cos(0.5 * np.pi * np.linspace(0.0, 1.0, b - a)) ** 2
            out.append((a, b, ramp.astype(np.float32)))
            out.append((b, n, np.zeros(n - b, dtype=np.float32)))
    return out


def _window(spec: Sequence[float | None] | None, rate: int, n: int) -> np.ndarray[Any, Any]:
    """[a0, a1, b0, b1] s: 0 before a0, sin^2 up to 1 at a1, 1 to b0, cos^2 down to 0 at b1.

    None entries leave that side open; the whole window None is 1 everywhere.
    The ramps of a source and of a layer with the same edges sum to exactly 1.
    """
    gain = np.ones(n)
    if not spec:
        return gain
    a0, a1, b0, b1 = spec
    if a0 is not None and a1 is not None:
        a, b = round(a0 * rate), round(a1 * rate)
        gain[: max(0, a)] = 0.0
        if b > a:
            ramp = np.sin(0.5 * np.pi * (np.arange(a, b) - a + 0.5) / (b - a)) ** 2
            lo, hi = max(0, a), min(n, b)
            gain[lo:hi] = ramp[lo - a : hi - a]
    if b0 is not None and b1 is not None:
        a, b = round(b0 * rate), round(b1 * rate)
        if b > a:
            ramp = np.cos(0.5 * np.pi * (np.arange(a, b) - a + 0.5) / (b - a)) ** 2
            lo, hi = max(0, a), min(n, b)
            gain[lo:hi] *= ramp[lo - a : hi - a]
        gain[max(0, b) :] = 0.0
    return gain


def _pan(mono: F32, pan: float, gain: float) -> F32:
    """Constant-power pan (centre: gain on both sides), float32 (n, 2)."""
    angle = (pan + 1.0) * math.pi / 4
    out = np.empty((len(mono), 2), dtype=np.float32)
    np.multiply(mono, np.float32(gain * math.cos(angle) * math.sqrt(2)), out=out[:, 0])
    np.multiply(mono, np.float32(gain * math.sin(angle) * math.sqrt(2)), out=out[:, 1])
    return out


def shifted(samples: np.ndarray[Any, Any], shift: int, n: int) -> np.ndarray[Any, Any]:
    """`samples` (m, c) delayed by `shift` samples (negative: advanced) into n rows, zero-padded."""
    out = np.zeros((n, samples.shape[1]), dtype=np.float64)
    src_lo = max(0, -shift)
    dst_lo = max(0, shift)
    count = min(len(samples) - src_lo, n - dst_lo)
    if count > 0:
        out[dst_lo : dst_lo + count] = samples[src_lo : src_lo + count]
    return out


def stereo(samples: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    if samples.ndim == 1:
        samples = samples[:, None]
    if samples.shape[1] == 1:
        return np.repeat(samples, 2, axis=1)
    return samples[:, :2]


def _add_source(
    parts: dict[str, np.ndarray[Any, Any]],
    entry: Mapping[str, Any],
    sources: Sequence[Audio],
    rate: int,
    n: int,
) -> None:
    window = _window(entry.get("window"), rate, n)[:, None]
    gain = float(entry.get("gain", 1.0))
    shift = int(entry.get("shift", 0))
    index = int(entry.get("index", 0))
    if index < len(sources):
        clip = stereo(sources[index].samples)
        placed = (shifted(clip, shift, n) * window).astype(np.float32)
        if gain != 1.0:
            placed = placed * np.float32(gain)
        parts["source"] = parts["source"] + placed if "source" in parts else placed
        return
    nested = entry.get("recipe")
    if not nested:
        return
    align = entry.get("align", {})
    lag = int(align.get("lag", 0)) + shift
    scale = float(align.get("gain", 1.0)) * gain
    for name, part in render_parts(nested).items():
        placed = (shifted(part, lag, n) * window * scale).astype(np.float32)
        parts[name] = parts[name] + placed if name in parts else placed
