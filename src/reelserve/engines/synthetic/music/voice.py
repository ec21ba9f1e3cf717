"""The sung voice: a source-filter (formant) singer on the melody's syllables. Not AI.

Like `speech.py`, but sung: each syllable is one note. The glottal pulse
train follows the note's pitch exactly, with ~40 ms portamento between
notes of a phrase and a vibrato that fades in 0.15 s into each note; its
vowel is the syllable's nucleus letter ("a" "e" "i" "o" "u" "y"), filtered
per STFT frame through that vowel's three formants plus a singer's formant
near 3 kHz; an onset consonant is a short noise burst (unvoiced letters) or
a softer voiced start (m, n, l, r, w...). The voice has settings, kept in
the recipe so a persona can reuse them: gender "m" | "f" (range and formant
scale), vibrato rate and depth, breathiness.

Only the phrases are rendered (each with a short margin), so silence costs
nothing; a 60 s song's voice takes a few tens of milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from reelserve.engines.synthetic.dsp import (
    Floats,
    band,
    fft_size,
    frame_times,
    istft,
    seeded_rng,
    smooth,
    stable_fraction,
    stft,
)

VOWELS = {
    "a": (730.0, 1090.0, 2440.0),
    "e": (530.0, 1840.0, 2480.0),
    "i": (300.0, 2200.0, 3000.0),
    "o": (570.0, 840.0, 2410.0),
    "u": (330.0, 900.0, 2240.0),
    "y": (400.0, 1900.0, 2500.0),
}
_UNVOICED = set("cfhkpqstx")
_PHRASE_GAP_S = 0.25
_MARGIN_S = 0.35


def voice_settings(gender: str, seed: int, persona: dict[str, Any] | None = None) -> dict[str, Any]:
    """The voice's settings: a persona's when given, else from gender ("m" | "f" | "") and seed."""
    if persona:
        return dict(persona)
    if gender not in ("m", "f"):
        gender = "f" if stable_fraction("gender", seed) < 0.5 else "m"
    f = stable_fraction("voice", seed)
    return {
        "gender": gender,
        "low": 48 if gender == "m" else 57,
        "formants": (1.0 if gender == "m" else 1.17) * (0.97 + 0.06 * f),
        "vibrato_hz": round(5.0 + 1.2 * f, 3),
        "vibrato_depth": round(0.018 + 0.012 * f, 4),
        "breath": round(0.03 + 0.03 * f, 4),
    }


def sing(
    syllables: Sequence[Sequence[Any]], voice: dict[str, Any], rate: int, n: int, seed: int
) -> Floats:
    """The voice singing `syllables` ([start, end, pitch, vowel, onset]) into `n` samples.

    Above 32 kHz the voice is synthesised at half the rate and upsampled by
    zero-padding its spectrum (exact band-limited interpolation): it has
    nothing above 9 kHz, and it halves the cost.
    """
    out = np.zeros(n)
    factor = 2 if rate >= 32000 else 1
    inner = rate // factor
    for index, phrase in enumerate(_phrases(syllables)):
        a = max(0, round((float(phrase[0][0]) - 0.05) * rate))
        b = min(n, round((float(phrase[-1][1]) + _MARGIN_S) * rate))
        if b <= a:
            continue
        rng = seeded_rng("sing", seed, index)
        count = _fast_length(-(-(b - a) // factor))
        sung = _phrase(phrase, voice, inner, a / rate, count, rng)
        if factor > 1:
            sung = np.fft.irfft(np.fft.rfft(sung), n=count * factor) * factor
        out[a:b] += sung[: b - a]
    return out


def _fast_length(n: int) -> int:
    """The smallest 2^a * 3^b * 5^c >= n (FFT sizes that pocketfft does fast)."""
    best = 1 << max(0, (n - 1).bit_length())
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            size = p35 << max(0, (-(-n // p35) - 1).bit_length())
            best = min(best, max(size, p35))
            p35 *= 3
        p5 *= 5
    return max(best, n)


def _phrases(syllables: Sequence[Sequence[Any]]) -> list[list[Sequence[Any]]]:
    groups: list[list[Sequence[Any]]] = []
    for syllable in sorted(syllables, key=lambda s: float(s[0])):
        if groups and float(syllable[0]) - float(groups[-1][-1][1]) < _PHRASE_GAP_S:
            groups[-1].append(syllable)
        else:
            groups.append([syllable])
    return groups


def _phrase(
    phrase: list[Sequence[Any]],
    voice: dict[str, Any],
    rate: int,
    offset_s: float,
    n: int,
    rng: np.random.Generator,
) -> Floats:
    """One phrase, `n` samples from `offset_s`: per-syllable pitch, vowel, loudness and hiss.

    Each syllable holds its pitch and vowel from its start to the next one's
    (so the glide and formant moves happen in the breaths and note changes).
    """
    starts = [min(n, max(0, round((float(s[0]) - offset_s) * rate))) for s in phrase]
    ends = [min(n, max(0, round((float(s[1]) - offset_s) * rate))) for s in phrase]
    bounds = [0, *starts[1:], n]
    starts[0] = min(starts[0], n)
    lengths = np.diff(bounds)
    log_f0 = np.repeat(
        [math.log(440.0 * 2.0 ** ((float(s[2]) - 69.0) / 12.0)) for s in phrase], lengths
    )
    tracks = np.repeat([VOWELS.get(str(s[3])[:1], VOWELS["a"]) for s in phrase], lengths, axis=0)
    note_start = np.repeat(np.asarray(starts, dtype=np.float64), lengths)
    amp, hiss = np.zeros(n), np.zeros(n)
    for (_, _, _, _, onset), a, b in zip(phrase, starts, ends, strict=True):
        if b <= a:
            continue
        consonant = min(round(0.055 * rate), (b - a) // 3) if str(onset) else 0
        unvoiced = any(c in _UNVOICED for c in str(onset))
        hiss[a : a + consonant] = 0.5 if unvoiced else 0.08
        amp[a : a + consonant] = 0.0 if unvoiced else 0.45
        amp[a + consonant : b] = 1.0
    f0 = np.exp(smooth(log_f0, max(1, round(0.04 * rate))))
    t = offset_s + np.arange(n) / rate
    since = (np.arange(n) - note_start) / rate
    depth = float(voice.get("vibrato_depth", 0.025)) * np.clip((since - 0.15) * 5.0, 0.0, 1.0)
    f0 *= 1.0 + depth * np.sin(2 * np.pi * float(voice.get("vibrato_hz", 5.5)) * t)
    amp = smooth(amp, max(1, round(0.02 * rate)))
    hiss = smooth(hiss, max(1, round(0.008 * rate)))
    phase = np.cumsum(f0 / rate)
    source = np.diff(_glottal_flow(phase % 1.0), prepend=0.0) * amp * (rate / 100.0)
    source += float(voice.get("breath", 0.04)) * rng.standard_normal(n) * amp
    noise = rng.standard_normal(n) * hiss
    return _formant_filter(source, noise, tracks * float(voice.get("formants", 1.0)), rate)


def _formant_filter(source: Floats, noise: Floats, tracks: Floats, rate: int) -> Floats:
    n = len(source)
    n_fft = fft_size(rate)
    voiced_spec, noise_spec = stft(source, n_fft), stft(noise, n_fft)
    at = np.clip(np.round(frame_times(len(voiced_spec), n_fft, rate) * rate).astype(int), 0, n - 1)
    freqs: Floats = np.fft.rfftfreq(n_fft, 1.0 / rate).astype(np.float64)[None, :]
    formants = tracks[at]
    envelope: Floats = np.full((len(at), freqs.shape[1]), 0.01, dtype=np.float64)
    for i, (gain, width) in enumerate(((1.0, 100.0), (0.6, 120.0), (0.35, 170.0))):
        envelope += gain / (1.0 + ((freqs - formants[:, i : i + 1]) / (width / 2)) ** 2)
    envelope += 0.25 / (1.0 + ((freqs - 2900.0) / 250.0) ** 2)  # the singer's formant
    envelope *= band(freqs, 80.0, 6000.0, softness=1.0)
    hiss_gain = band(freqs, 2500.0, 9000.0, softness=0.5)
    return istft(voiced_spec * envelope + noise_spec * hiss_gain, n, n_fft)


def _glottal_flow(frac: Floats) -> Floats:
    """A Rosenberg pulse per period: opening (40%), closing (16%), then closed."""
    opening, closing = 0.4, 0.16
    flow: Floats = np.where(
        frac < opening,
        0.5 * (1.0 - np.cos(np.pi * frac / opening)),
        np.where(frac < opening + closing, np.cos(0.5 * np.pi * (frac - opening) / closing), 0.0),
    )
    return flow
