"""Small numpy signal helpers for the synthetic audio: seeded noise, STFT filtering, envelopes.

numpy only (no scipy in the base install). Time-varying filters are done in
the frequency domain: a short-time Fourier transform with a square-root
periodic Hann window at 50% overlap, whose analysis x synthesis windows sum
to exactly 1, so unit gains give the input back and any per-frame gain curve
is a smooth time-varying filter. That is one batched FFT per signal, which
keeps 10 s of 44.1 kHz audio well under 0.1 s.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from reelserve.engines.base import Samples

Floats = npt.NDArray[np.float64]
Complex = npt.NDArray[np.complex128]


def seeded_rng(*parts: object) -> np.random.Generator:
    """A generator seeded by the parts' reprs (sha256: stable across processes, unlike hash())."""
    digest = hashlib.sha256("\x1f".join(repr(p) for p in parts).encode("utf-8")).digest()
    words = [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 32, 4)]
    return np.random.default_rng(np.random.SeedSequence(words))


def stable_fraction(*parts: object) -> float:
    """A number in [0, 1) fixed by the parts (for choices that must not depend on the seed)."""
    digest = hashlib.sha256("\x1f".join(repr(p) for p in parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "little") / 2**64


def fft_size(sample_rate: int) -> int:
    """A power of two near 23 ms: fine enough in time for speech, in frequency for formants."""
    return int(2 ** max(6, round(math.log2(max(1, sample_rate) * 0.023))))


def _window(n_fft: int) -> Floats:
    periodic_hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
    root: Floats = np.sqrt(periodic_hann)
    return root


def stft(signal: Floats, n_fft: int) -> Complex:
    """Frames of `signal` (hop n_fft/2), windowed and transformed: (frames, n_fft/2 + 1).

    Frame k covers padded samples [k*hop, k*hop + n_fft) where the padding is
    one hop of zeros in front; `istft` undoes exactly this layout.
    """
    hop = n_fft // 2
    tail = hop + (-len(signal)) % hop
    padded = np.concatenate([np.zeros(hop), signal, np.zeros(tail)])
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop]
    spectrum: Complex = np.fft.rfft(frames * _window(n_fft), axis=1)
    return spectrum


def istft(spectrum: Complex, length: int, n_fft: int) -> Floats:
    """Overlap-add the frames of `spectrum` back into `length` samples."""
    hop = n_fft // 2
    frames = np.fft.irfft(spectrum, n=n_fft, axis=1) * _window(n_fft)
    count = len(frames)
    out = np.zeros((count + 1) * hop)
    out[: count * hop] += frames[:, :hop].ravel()
    out[hop : hop + count * hop] += frames[:, hop:].ravel()
    result: Floats = out[hop : hop + length]
    return result


def frame_times(count: int, n_fft: int, sample_rate: int) -> Floats:
    """The centre of each STFT frame, in seconds from the signal's start."""
    # Frame k starts one hop before sample k*hop (the padding), so it is centred on it.
    times: Floats = np.arange(count) * (n_fft // 2) / sample_rate
    return times


def filtered(
    signal: Floats,
    sample_rate: int,
    gains: Callable[[Floats, Floats], Floats],
) -> Floats:
    """`signal` through a time-varying filter: `gains(times (frames, 1), freqs (bins,))`."""
    n_fft = fft_size(sample_rate)
    spectrum = stft(signal, n_fft)
    times = frame_times(len(spectrum), n_fft, sample_rate)[:, None]
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate).astype(np.float64)
    return istft(spectrum * gains(times, freqs), len(signal), n_fft)


def band(
    freqs: Floats, low: Floats | float, high: Floats | float, softness: float = 0.25
) -> Floats:
    """A smooth band-pass gain: ~1 between low and high, rolling off over `softness` octaves."""
    octave = np.log2(np.maximum(freqs, 1.0))
    rise = 1.0 / (1.0 + np.exp(-(octave - np.log2(np.maximum(low, 1.0))) / (softness / 4)))
    fall = 1.0 / (1.0 + np.exp((octave - np.log2(np.maximum(high, 1.0))) / (softness / 4)))
    result: Floats = rise * fall
    return result


def smooth(values: Floats, width: int) -> Floats:
    """A centred moving average over `width` samples (edges use the shorter window)."""
    if width <= 1 or len(values) == 0:
        return values
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    half = width // 2
    idx = np.arange(len(values))
    lo = np.clip(idx - half, 0, len(values))
    hi = np.clip(idx + half + 1, 0, len(values))
    result: Floats = (cumulative[hi] - cumulative[lo]) / (hi - lo)
    return result


def frame_rms(mono: Floats, hop: int) -> Floats:
    """Root-mean-square energy of consecutive blocks of `hop` samples (the last one partial)."""
    if len(mono) == 0:
        return np.zeros(0)
    count = math.ceil(len(mono) / hop)
    padded = np.zeros(count * hop)
    padded[: len(mono)] = mono
    blocks = padded.reshape(count, hop)
    sizes = np.full(count, hop, dtype=np.float64)
    sizes[-1] = len(mono) - (count - 1) * hop
    rms: Floats = np.sqrt((blocks**2).sum(axis=1) / sizes)
    return rms


def to_mono(samples: Samples) -> Floats:
    """The channels averaged, as float64 (n,)."""
    if samples.ndim == 1:
        return samples.astype(np.float64)
    mono: Floats = samples.astype(np.float64).mean(axis=1)
    return mono


def finish(
    channels: list[Floats], peak: float = 0.85, fade_s: float = 0.005, rate: int = 0
) -> Samples:
    """Channels (each (n,)) as float32 (n, c): normalised to `peak`, short fades against clicks."""
    stacked = np.stack(channels, axis=1)
    top = float(np.abs(stacked).max()) if stacked.size else 0.0
    if top > 0:
        stacked *= peak / top
    fade = min(len(stacked) // 2, round(fade_s * rate)) if rate else 0
    if fade > 0:
        ramp = np.linspace(0.0, 1.0, fade)[:, None]
        stacked[:fade] *= ramp
        stacked[-fade:] *= ramp[::-1]
    samples: Samples = np.clip(stacked, -1.0, 1.0).astype(np.float32)
    return samples
