"""Listening to an input track with plain signal processing: tempo, beat, key, contour, alignment.

Decisions (classic methods, no model):
- Tempo: an onset-strength envelope (positive change of log band energy per
  ~11.6 ms hop), autocorrelated over 60-180 bpm with a mild preference for
  ~110 bpm; the beat phase is the offset whose beat grid collects the most
  onset strength.
- Key: a chroma vector (STFT magnitude of 55-2000 Hz folded onto 12 pitch
  classes), correlated with the Krumhansl-Kessler major and minor profiles.
- Contour: the strongest pitch (110-1000 Hz) per eighth note, where the
  track is loud enough, as MIDI notes; consecutive equal pitches merge.
- Alignment: the lag (within +-4096 samples) maximising the cross-correlation
  of two mono signals, found with FFTs, then the least-squares gain.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from reelserve.engines.base import Samples
from reelserve.engines.synthetic.dsp import Floats, to_mono
from reelserve.engines.synthetic.music.theory import Key

_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
_HOP = 512
MAX_LAG = 4096


@dataclass(frozen=True)
class Beat:
    tempo: float
    beat0: float  # the time of a beat, s (taken as a downbeat)


def _analysis_signal(samples: Samples, rate: int, seconds: float = 90.0) -> Floats:
    mono = to_mono(samples)
    return mono[: round(seconds * rate)]


def estimate_beat(samples: Samples, rate: int) -> Beat:
    """Tempo (bpm, 60-180) and the time of a beat, from the onset envelope's periodicity."""
    mono = _analysis_signal(samples, rate)
    hop_s = _HOP / rate
    if len(mono) < rate:
        return Beat(120.0, 0.0)
    envelope = onset_envelope(mono, rate)
    env = envelope - envelope.mean()
    spectrum = np.fft.rfft(env, n=2 * len(env))
    auto = np.fft.irfft(np.abs(spectrum) ** 2)[: len(env)]
    best, best_score = 120.0, -math.inf
    for bpm in np.arange(60.0, 180.5, 0.5):
        lag = 60.0 / bpm / hop_s
        lo = math.floor(lag)
        if lo + 1 >= len(auto):
            continue
        value = auto[lo] + (auto[lo + 1] - auto[lo]) * (lag - lo)
        weight = math.exp(-0.5 * (math.log2(bpm / 110.0) / 0.9) ** 2)
        if value * weight > best_score:
            best, best_score = float(bpm), value * weight
    bpm, phase = _refine(envelope, best, hop_s)
    return Beat(round(bpm, 3), round(phase * hop_s, 4))


def _refine(envelope: Floats, bpm: float, hop_s: float) -> tuple[float, float]:
    """The tempo within +-1.5 bpm (0.02 steps) and phase (hops) whose beat comb collects most onset.

    A comb over the whole envelope pins the tempo far better than the
    autocorrelation's peak: 0.05 bpm is under a frame of drift over a minute.
    """
    smoothed = np.convolve(envelope, np.hanning(5), mode="same")
    best = (-math.inf, bpm, 0.0)
    for candidate in np.arange(bpm - 1.5, bpm + 1.5001, 0.02):
        period = 60.0 / candidate / hop_s
        beats = np.arange(0.0, len(smoothed) - period, period)
        phases = np.arange(0.0, period, 0.5)
        at = np.rint(phases[:, None] + beats[None, :]).astype(int)
        at = np.minimum(at, len(smoothed) - 1)
        scores = smoothed[at].mean(axis=1)
        k = int(np.argmax(scores))
        if scores[k] > best[0]:
            best = (float(scores[k]), float(candidate), float(phases[k]))
    return best[1], best[2]


def onset_envelope(mono: Floats, rate: int) -> Floats:
    """Positive frame-to-frame change of log energy in 4 bands, summed (one value per hop)."""
    count = len(mono) // _HOP
    if count < 2:
        return np.zeros(max(count, 1))
    frames = mono[: count * _HOP].reshape(count, _HOP) * np.hanning(_HOP)
    spectrum = np.abs(np.fft.rfft(frames, axis=1))
    freqs = np.fft.rfftfreq(_HOP, 1.0 / rate)
    edges = (0.0, 200.0, 800.0, 3000.0, rate / 2)
    flux = np.zeros(count)
    for lo, hi in itertools.pairwise(edges):
        energy = np.log1p(100.0 * spectrum[:, (freqs >= lo) & (freqs < hi)].sum(axis=1))
        flux += np.maximum(np.diff(energy, prepend=energy[0]), 0.0)
    result: Floats = flux
    return result


def chroma(samples: Samples, rate: int) -> Floats:
    """Energy per pitch class (0 = C) over the first 90 s, 55-2000 Hz."""
    mono = _analysis_signal(samples, rate)
    n_fft = 8192
    if len(mono) < n_fft:
        mono = np.pad(mono, (0, n_fft - len(mono)))
    count = (len(mono) - n_fft) // (n_fft // 2) + 1
    starts = np.arange(count) * (n_fft // 2)
    total = np.zeros(n_fft // 2 + 1)
    for chunk in np.array_split(starts, max(1, count // 64)):
        frames = np.stack([mono[s : s + n_fft] for s in chunk]) * np.hanning(n_fft)
        total += (np.abs(np.fft.rfft(frames, axis=1)) ** 2).sum(axis=0)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / rate)
    keep = (freqs >= 55.0) & (freqs <= 2000.0)
    classes = np.round(12 * np.log2(freqs[keep] / 440.0) + 69).astype(np.int64) % 12
    counts = np.bincount(classes, weights=np.sqrt(total[keep]), minlength=12)
    result: Floats = counts.astype(np.float64)
    return result


def estimate_key(samples: Samples, rate: int) -> Key:
    """The major or minor key whose Krumhansl-Kessler profile best matches the chroma."""
    profile = chroma(samples, rate)
    if not profile.any():
        return Key(0, "major")
    best, best_r = Key(0, "major"), -2.0
    for tonic in range(12):
        rolled = np.roll(profile, -tonic)
        for mode, template in (("major", _MAJOR), ("minor", _MINOR)):
            r = float(np.corrcoef(rolled, template)[0, 1])
            if r > best_r:
                best, best_r = Key(tonic, mode), r
    return best


def pitch_contour(
    samples: Samples,
    rate: int,
    beat: Beat,
    start: float,
    end: float,
) -> list[list[float]]:
    """The strongest 110-1000 Hz pitch per eighth note in [start, end): [pitch, s, e, 0.7] notes."""
    mono = to_mono(samples)
    step = 30.0 / beat.tempo
    n_fft = 4096
    freqs = np.fft.rfftfreq(n_fft, 1.0 / rate)
    keep = (freqs >= 110.0) & (freqs <= 1000.0)
    level = float(np.sqrt(np.mean(mono**2))) if len(mono) else 0.0
    first = beat.beat0 + math.ceil((start - beat.beat0) / step) * step
    times = np.arange(first, end - step / 2, step)
    notes: list[list[float]] = []
    for t in times:
        a = round(t * rate)
        frame = mono[a : a + n_fft]
        if len(frame) < n_fft // 2 or level == 0:
            continue
        if float(np.sqrt(np.mean(frame**2))) < 0.3 * level:
            continue
        frame = np.pad(frame, (0, n_fft - len(frame))) * np.hanning(n_fft)
        mags = np.abs(np.fft.rfft(frame))[keep]
        hz = float(freqs[keep][int(np.argmax(mags))])
        pitch = float(round(12 * math.log2(hz / 440.0) + 69))
        s, e = round(float(t), 6), round(float(t + step * 0.95), 6)
        if notes and notes[-1][0] == pitch and abs(notes[-1][2] - s) < step * 0.1:
            notes[-1][2] = e
        else:
            notes.append([pitch, s, e, 0.7])
    return notes


def align(reference: Floats, target: Floats, max_lag: int = MAX_LAG) -> tuple[int, float]:
    """(lag, gain) so that gain * reference delayed by lag best matches target (least squares).

    Both mono; lag in [-max_lag, max_lag]; the correlation is computed with FFTs.
    """
    n = min(len(reference), len(target))
    if n == 0:
        return 0, 0.0
    ref, tgt = reference[:n], target[:n]
    lag = _best_lag(ref, tgt, max_lag)
    moved = np.zeros(n)
    if lag >= 0:
        moved[lag:] = ref[: n - lag]
    else:
        moved[: n + lag] = ref[-lag:]
    energy = float(np.dot(moved, moved))
    gain = float(np.dot(moved, tgt) / energy) if energy > 0 else 0.0
    return lag, gain


def _best_lag(ref: Floats, tgt: Floats, max_lag: int) -> int:
    """The lag maximising the cross-correlation over the loudest ~12 s excerpt of `ref`."""
    n = len(ref)
    size = min(1 << 19, 1 << math.ceil(math.log2(max(2, n))))
    piece = max(1, size - 2 * max_lag)
    if n > piece:
        energy = np.cumsum(np.concatenate([[0.0], ref**2]))
        starts = np.arange(0, n - piece + 1, max(1, piece // 4))
        start = int(starts[int(np.argmax(energy[starts + piece] - energy[starts]))])
    else:
        start, piece = 0, n
    lo, hi = max(0, start - max_lag), min(n, start + piece + max_lag)
    ref_piece = np.zeros(hi - lo)
    ref_piece[start - lo : start - lo + piece] = ref[start : start + piece]
    tgt_piece = tgt[lo:hi]
    size = 1 << math.ceil(math.log2(2 * (hi - lo)))
    corr = np.fft.irfft(np.fft.rfft(tgt_piece, size) * np.conj(np.fft.rfft(ref_piece, size)), size)
    lags = np.concatenate([np.arange(0, max_lag + 1), np.arange(-max_lag, 0)])
    values = np.concatenate([corr[: max_lag + 1], corr[size - max_lag :]])
    return int(lags[int(np.argmax(values))])


def loudness(samples: Samples, rate: int, start: float, end: float) -> float:
    """RMS of `samples` between two times (all channels)."""
    a, b = max(0, round(start * rate)), max(0, round(end * rate))
    part = samples[a:b]
    return float(np.sqrt(np.mean(np.asarray(part, dtype=np.float64) ** 2))) if len(part) else 0.0
