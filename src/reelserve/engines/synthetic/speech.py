"""text_to_speech: a formant-synthesised (source-filter) voice, in the spirit of 1970s speech chips.

Not AI, and it does not say real words: each character becomes a short
segment of a speech-like sound. Vowels are a glottal pulse train (with a
pitch contour: declination over a sentence, a rise before "?") shaped by
three formant resonances; voiced consonants are weaker and nasal; unvoiced
ones are noise bursts in their own band; punctuation makes pauses. So the
output has speech's rhythm and spectrum (energy in 300-3000 Hz), and its
length follows the text: ~12-14 characters a second with the pauses, scaled by `speed`.

The filter is applied per STFT frame (see `dsp`), so 10 s of 44.1 kHz speech
takes a few tens of milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from reelserve.engines.base import Audio, AudioOutput, EngineError, EngineRequest
from reelserve.engines.synthetic.dsp import (
    Floats,
    band,
    fft_size,
    finish,
    frame_times,
    istft,
    seeded_rng,
    smooth,
    stable_fraction,
    stft,
)

CHARS_PER_SECOND = 14.0
_PAUSES = {",": 0.15, ";": 0.2, ":": 0.2, "-": 0.08, ".": 0.3, "!": 0.3, "?": 0.3, "\n": 0.3}
_LINE_GAP_S = 0.3
# (F1, F2, F3) in Hz for an adult voice; scaled per voice.
_VOWELS = {
    "a": (730, 1090, 2440),
    "e": (530, 1840, 2480),
    "i": (300, 2200, 3000),
    "o": (570, 840, 2410),
    "u": (330, 900, 2240),
    "y": (400, 1900, 2500),
}
_VOICED = {"m": (280, 1300, 2300), "n": (280, 1700, 2500), "l": (360, 1000, 2400)}
_VOICED_DEFAULT = (400, 1200, 2400)
_HISS = {"s": (4000, 8000), "z": (4000, 8000), "c": (3000, 7000), "x": (3000, 7000)}
_HISS_DEFAULT = (1000, 6000)
_STOPS = set("bdgkpqt")
_VOICED_CONSONANTS = set("bdgjlmnrvwz")
# Voices a dialogue assigns in order of first appearance: distinct pitches (Hz), formant scales.
_DIALOGUE_VOICES = ((115.0, 1.0), (205.0, 1.15), (145.0, 1.05), (240.0, 1.2), (95.0, 0.95))


@dataclass(frozen=True)
class Voice:
    """A voice: the mean pitch (Hz) and a formant scale (longer/shorter vocal tract)."""

    pitch: float
    formants: float

    @classmethod
    def named(cls, name: str) -> Voice:
        """A stable voice per name: pitch 95-240 Hz, formants following the pitch a little."""
        f = stable_fraction("voice", name)
        return cls(95.0 + 145.0 * f, 0.95 + 0.25 * f)


@dataclass(frozen=True)
class _Segment:
    seconds: float
    formants: tuple[float, float, float]
    voiced: float  # glottal source amplitude
    hiss: float  # noise amplitude
    hiss_band: tuple[float, float]
    closure: float  # leading fraction of silence (stop consonants)
    sentence: int = 0  # which sentence of the line it belongs to
    question: bool = False  # that sentence ends with "?"


def text_to_speech(request: EngineRequest) -> AudioOutput:
    """Speech for `prompt` (or params["text"]), or params["dialogue"] lines, mono at sample_rate."""
    params: Mapping[str, Any] = request.params
    rate = request.sample_rate
    if rate <= 0:
        raise EngineError(f"invalid sample rate {rate}")
    speed = float(params.get("speed") or 1.0)
    if not 0.1 <= speed <= 10.0:
        raise EngineError(f"speed must be in 0.1..10, got {speed}", fail_code=400)
    lines = _lines(request)
    if not any(text.strip() for text, _ in lines):
        raise EngineError("text_to_speech needs some text", fail_code=400)
    parts: list[Floats] = []
    for index, (text, voice) in enumerate(lines):
        if index:
            parts.append(np.zeros(round(_LINE_GAP_S * rate / speed)))
        rng = seeded_rng("speech", text, voice, request.seed, index)
        parts.append(synthesise(text, voice, rate, speed, rng))
    return AudioOutput(Audio(finish([np.concatenate(parts)], peak=0.8, rate=rate), rate))


def _lines(request: EngineRequest) -> list[tuple[str, Voice]]:
    dialogue = request.params.get("dialogue")
    if isinstance(dialogue, Sequence) and not isinstance(dialogue, str) and dialogue:
        order: dict[str, Voice] = {}
        lines = []
        for item in dialogue:
            item_map = item if isinstance(item, Mapping) else {"text": str(item)}
            name = str(item_map.get("voice") or "")
            if name not in order:
                pitch, formants = _DIALOGUE_VOICES[len(order) % len(_DIALOGUE_VOICES)]
                order[name] = Voice(pitch, formants)
            lines.append((str(item_map.get("text") or ""), order[name]))
        return lines
    text = request.prompt or str(request.params.get("text") or "")
    return [(text, Voice.named(str(request.params.get("voice") or "")))]


def segments(text: str, speed: float) -> list[_Segment]:
    """One segment per character (punctuation: a pause), `1 / (14 * speed)` s per letter."""
    slot = 1.0 / (CHARS_PER_SECOND * speed)
    out: list[_Segment] = []
    sentence, first = 0, 0
    for char in text.lower():
        if char in _PAUSES:
            out.append(
                _Segment(_PAUSES[char] / speed, _VOICED_DEFAULT, 0.0, 0.0, _HISS_DEFAULT, 1.0)
            )
        else:
            out.append(_letter(char, slot))
        out[-1] = replace(out[-1], sentence=sentence)
        if char in ".!?\n":
            if char == "?":
                out[first:] = [replace(s, question=True) for s in out[first:]]
            sentence, first = sentence + 1, len(out)
    return [s for s in out if s.seconds > 0]


def _letter(char: str, slot: float) -> _Segment:
    if char.isspace():
        return _Segment(slot, _VOICED_DEFAULT, 0.0, 0.0, _HISS_DEFAULT, 1.0)
    if char in _VOWELS:
        return _Segment(slot, _VOWELS[char], 1.0, 0.02, _HISS_DEFAULT, 0.0)
    if (char.isalpha() and not char.isascii()) or char.isdigit():
        # Letters of other scripts and digits become vowels, so any text is voiced.
        vowel = "aeiou"[ord(char) % 5]
        return _Segment(slot, _VOWELS[vowel], 1.0, 0.02, _HISS_DEFAULT, 0.0)
    if not char.isalpha():
        return _Segment(0.0, _VOICED_DEFAULT, 0.0, 0.0, _HISS_DEFAULT, 0.0)
    voiced = 0.45 if char in _VOICED_CONSONANTS else 0.0
    hiss = 0.0 if char in "lmnrw" else (0.35 if char in _HISS else 0.2)
    closure = 0.6 if char in _STOPS else 0.0
    formants = _VOICED.get(char, _VOICED_DEFAULT)
    return _Segment(slot, formants, voiced, hiss, _HISS.get(char, _HISS_DEFAULT), closure)


def synthesise(
    text: str, voice: Voice, rate: int, speed: float, rng: np.random.Generator
) -> Floats:
    """The voice for one line, float64 (n,) unnormalised."""
    parts = segments(text, speed)
    sizes = [round(p.seconds * rate) for p in parts]
    n = sum(sizes)
    if n == 0:
        return np.zeros(0)
    starts = np.cumsum([0, *sizes])
    voiced, hiss = np.zeros(n), np.zeros(n)
    tracks = np.zeros((n, 3))
    low, high = np.zeros(n), np.zeros(n)
    sentence = np.zeros(n, dtype=np.int64)
    question = np.zeros(n, dtype=bool)
    for k, (part, size) in enumerate(zip(parts, sizes, strict=True)):
        a, b = int(starts[k]), int(starts[k + 1])
        sound_from = a + round(part.closure * size)
        voiced[sound_from:b] = part.voiced
        hiss[sound_from:b] = part.hiss
        if part.closure and part.hiss:
            # A stop's release: a short louder burst right after the closure.
            hiss[sound_from : min(b, sound_from + round(0.02 * rate))] = 0.9
        tracks[a:b] = part.formants
        low[a:b], high[a:b] = part.hiss_band
        sentence[a:b], question[a:b] = part.sentence, part.question
    # ~12 ms smoothing: co-articulation between segments and no clicks at their edges.
    width = max(1, round(0.012 * rate))
    voiced, hiss = smooth(voiced, width), smooth(hiss, width)
    f0 = _pitch(voice.pitch, _position_in_sentence(sentence), question, rate, rng)
    phase = np.cumsum(f0 / rate)
    source = np.diff(_glottal_flow(phase % 1.0), prepend=0.0) * voiced * (rate / 100.0)
    source += 0.03 * rng.standard_normal(n) * voiced  # breathiness
    noise = rng.standard_normal(n) * hiss

    n_fft = fft_size(rate)
    voiced_spec, noise_spec = stft(source, n_fft), stft(noise, n_fft)
    at = np.clip(np.round(frame_times(len(voiced_spec), n_fft, rate) * rate).astype(int), 0, n - 1)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / rate).astype(np.float64)[None, :]
    formants = tracks[at] * voice.formants
    envelope: Floats = np.full((len(at), freqs.shape[1]), 0.01, dtype=np.float64)
    for i, (gain, width_hz) in enumerate(((1.0, 90.0), (0.55, 110.0), (0.3, 160.0))):
        centre = formants[:, i : i + 1]
        envelope += gain / (1.0 + ((freqs - centre) / (width_hz / 2)) ** 2)
    envelope *= band(freqs, 90.0, 5000.0, softness=1.0)
    hiss_gain = band(freqs, low[at][:, None], high[at][:, None], softness=0.5)
    return istft(voiced_spec * envelope + noise_spec * hiss_gain, n, n_fft)


def _position_in_sentence(sentence: npt.NDArray[np.int64]) -> Floats:
    """0 at each sentence's first sample rising to 1 at its last."""
    starts = np.flatnonzero(np.diff(sentence, prepend=-1))
    ends = np.append(starts[1:], len(sentence))
    lengths = np.repeat(ends - starts, ends - starts)
    offsets = np.arange(len(sentence)) - np.repeat(starts, ends - starts)
    position: Floats = offsets / np.maximum(lengths - 1, 1)
    return position


def _pitch(
    mean: float,
    position: Floats,
    question: npt.NDArray[np.bool_],
    rate: int,
    rng: np.random.Generator,
) -> Floats:
    """Pitch per sample: declination over each sentence, a rise at the end of a question."""
    contour = 1.12 - 0.22 * position
    contour = np.where(question & (position > 0.7), contour + 0.9 * (position - 0.7), contour)
    t = np.arange(len(position)) / rate
    vibrato = 1.0 + 0.04 * np.sin(2 * np.pi * (3.0 + rng.random()) * t + 6 * rng.random())
    # Smoothed so sentence boundaries glide instead of jumping.
    result: Floats = smooth(mean * contour, max(1, round(0.03 * rate))) * vibrato
    return result


def _glottal_flow(frac: Floats) -> Floats:
    """A Rosenberg pulse per period: opening (40%), closing (16%), then closed."""
    opening, closing = 0.4, 0.16
    flow = np.where(
        frac < opening,
        0.5 * (1.0 - np.cos(np.pi * frac / opening)),
        np.where(frac < opening + closing, np.cos(0.5 * np.pi * (frac - opening) / closing), 0.0),
    )
    result: Floats = flow
    return result
