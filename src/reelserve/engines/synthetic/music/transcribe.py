"""Audio to MIDI for separated stems: monophonic pitch tracking and drum-hit detection.

Procedural DSP, not AI. Each non-silent clip becomes one instrument in
KIE's MIDI shape, `{"name", "notes": [{"pitch", "start", "end", "velocity"}]}`,
named by its stem (vocals -> "Voice Oohs", bass -> "Electric Bass
(finger)", drums and percussion -> "Drums", keyboard -> "Acoustic Grand
Piano", ...; unknown names get a piano). Times are seconds rounded to 4
decimals; velocity is 0-1 from the note's RMS level (-50 dBFS -> 0, a
full-scale sine -> 1).

Pitched stems: the clip (mixed to mono) is resampled to 11025 Hz and
tracked with YIN (de Cheveigne & Kawahara 2002): the cumulative mean
normalised difference function of every 46 ms window, every 11.6 ms, all
frames at once through FFT autocorrelation; the first dip under 0.15
(parabolically refined) is the period, and frames without one, or quieter
than 30 dB under the clip's loudest, are unvoiced. The pitch curve is
median-filtered over ~150 ms of voiced frames (so vibrato does not split
a note, while a step between notes stays where it is),
rounded to semitones and cut into notes where it changes or the level
jumps by 6 dB (a re-struck note); notes shorter than 60 ms are dropped,
each note's pitch is the median of its frames, and its edges are moved to
where the level crosses a third of the note's level, within its neighbours.

Drum stems: onsets are peaks of the log-magnitude spectral flux (1024-point
frames every ~6 ms) above a local mean; each onset is labelled from the
power it adds per band (see `drum_pieces`): under 150 Hz a kick (36), 1-7
kHz a snare (38), above 7 kHz without a snare a closed hi-hat (42); two
pieces struck together give two notes. A hit is 120 ms long at most.

Limits: one pitch at a time (a chord gives its strongest note, or none); no
pitch bends (a glide becomes a run of notes); octave errors are possible on
tones with a weak fundamental; the drum kit is three pieces (toms, rides and
crashes fold into them) and a hi-hat struck with a snare is folded into the
snare. Cost: ~0.3-0.5 s for 60 s of a 44.1 kHz stem (bass, with the
longest lags, is the slowest); frames under the gate are skipped.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from reelserve.engines.base import Audio

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

ANALYSIS_RATE = 11025
WINDOW = 512
"""YIN integration window at ANALYSIS_RATE (46 ms)."""
HOP = 128
"""Frame step at ANALYSIS_RATE (11.6 ms)."""
THRESHOLD = 0.15
VOICED_MAX = 0.3
GATE_DB = 30.0
"""Frames this far under the clip's loudest are treated as silence."""
SILENCE = 1e-4
"""A clip whose peak is under this is silent and gives no instrument."""
SMOOTH_S = 0.15
ONSET_DB = 6.0
MIN_NOTE_S = 0.06
EDGE_LEVEL = 1 / 3
DRUM_FRAME_S = 0.023
"""Drum STFT frames: the power of two nearest (1024 at 44.1 kHz), every quarter frame."""
DRUM_NOTE_S = 0.12
KICK, SNARE, CLOSED_HAT = 36, 38, 42
KICK_HZ = 150.0
SNARE_HZ = (1000.0, 7000.0)
HAT_HZ = 7000.0

GM_NAMES = {
    "vocals": "Voice Oohs",
    "backing_vocals": "Choir Aahs",
    "bass": "Electric Bass (finger)",
    "drums": "Drums",
    "percussion": "Drums",
    "keyboard": "Acoustic Grand Piano",
    "piano": "Acoustic Grand Piano",
    "guitar": "Electric Guitar (clean)",
    "strings": "String Ensemble 1",
    "synth": "Lead 2 (sawtooth)",
    "brass": "Brass Section",
    "woodwinds": "Flute",
    "fx": "FX 4 (atmosphere)",
    "instrumental": "Acoustic Grand Piano",
}
"""General MIDI program names by stem name."""

PITCH_RANGES = {"bass": (28.0, 500.0), "vocals": (65.0, 1400.0), "backing_vocals": (65.0, 1400.0)}
"""Fundamental ranges (Hz) searched per role; others get DEFAULT_RANGE."""
DEFAULT_RANGE = (40.0, 2000.0)


@dataclass(frozen=True)
class Note:
    pitch: int
    start: float
    end: float
    velocity: float

    def as_json(self) -> dict[str, Any]:
        return {
            "pitch": self.pitch,
            "start": round(self.start, 4),
            "end": round(self.end, 4),
            "velocity": round(self.velocity, 4),
        }


def transcribe(clips: list[Audio], names: list[str]) -> list[dict[str, Any]]:
    """One instrument per non-silent clip, in order: `{"name", "notes": [...]}`.

    `names` are the clips' stem names (missing ones count as unknown).
    """
    instruments: list[dict[str, Any]] = []
    for index, clip in enumerate(clips):
        role = stem_role(names[index] if index < len(names) else "")
        mono = _mono(clip)
        if len(mono) == 0 or float(np.abs(mono).max()) < SILENCE:
            continue
        if role in ("drums", "percussion"):
            notes = drum_notes(mono, clip.sample_rate)
        else:
            notes = pitched_notes(mono, clip.sample_rate, PITCH_RANGES.get(role, DEFAULT_RANGE))
        name = GM_NAMES.get(role, GM_NAMES["keyboard"])
        instruments.append({"name": name, "notes": [note.as_json() for note in notes]})
    return instruments


def stem_role(name: str) -> str:
    """A stem name ("Backing Vocals", "drums_url", "Vocals") as a GM_NAMES key ("" if unknown)."""
    key = re.sub(r"[^a-z]+", "_", name.lower()).strip("_").removesuffix("_url")
    if key in GM_NAMES:
        return key
    for word, role in (("backing", "backing_vocals"), ("drum", "drums"), ("perc", "percussion")):
        if word in key:
            return role
    for word, role in (("bass", "bass"), ("vocal", "vocals"), ("voice", "vocals")):
        if word in key:
            return role
    return ""


def _mono(clip: Audio) -> Floats:
    samples = clip.samples
    mono: Floats = (
        samples.mean(axis=1, dtype=np.float64) if samples.ndim == 2 else samples.astype(np.float64)
    )
    return mono


def velocity(rms: float) -> float:
    """0-1 from an RMS level: -50 dBFS is 0, -6 dBFS and louder are 1."""
    db = 20 * math.log10(max(rms, 1e-9))
    return float(np.clip((db + 50.0) / 44.0, 0.0, 1.0))


# --- pitched stems -------------------------------------------------------------------


def resample(mono: Floats, rate: int, target: int) -> Floats:
    """`mono` at `target` Hz by zero-padding or truncating its spectrum (band-limited)."""
    if rate == target or len(mono) == 0:
        return mono
    count = max(1, round(len(mono) * target / rate))
    spectrum = np.fft.rfft(mono.astype(np.float32))  # float32: half the cost, ample for pitch
    kept = np.zeros(count // 2 + 1, dtype=np.complex64)
    width = min(len(spectrum), len(kept))
    kept[:width] = spectrum[:width]
    if target < rate:
        # Taper the top tenth of what is kept, against ringing at the new Nyquist.
        taper = max(1, width // 10)
        kept[width - taper : width] *= np.linspace(1.0, 0.0, taper)
    result: Floats = np.fft.irfft(kept, count).astype(np.float64) * (count / len(mono))
    return result


@dataclass(frozen=True)
class PitchTrack:
    """Per frame: pitch (MIDI, float), voiced, RMS, at `times` (window centres, s)."""

    midi: Floats
    voiced: Bools
    rms: Floats
    times: Floats


def yin(signal: Floats, rate: int, f_range: tuple[float, float]) -> PitchTrack:
    """YIN on every frame of `signal` at once (FFT autocorrelation, float32).

    Frames under the loudness gate are not analysed (they are unvoiced).
    """
    tau_min = max(2, int(rate / f_range[1]))
    tau_max = max(tau_min + 2, math.ceil(rate / f_range[0]))
    length = WINDOW + tau_max + 1
    count = max(1, math.ceil(len(signal) / HOP))
    padded = np.zeros(count * HOP + length, dtype=np.float32)
    padded[: len(signal)] = signal
    frames = np.lib.stride_tricks.sliding_window_view(padded, length)[::HOP][:count]
    rms = np.sqrt((frames[:, :WINDOW].astype(np.float64) ** 2).mean(axis=1))
    peak = float(rms.max(initial=0.0))
    active = np.flatnonzero(rms > max(SILENCE, peak * 10 ** (-GATE_DB / 20)))
    midi = np.zeros(count)
    depth = np.ones(count)
    if len(active):
        period, depth[active] = _periods(frames[active], tau_min, tau_max)
        midi[active] = 69.0 + 12.0 * np.log2(rate / np.maximum(period, 1.0) / 440.0)
    voiced = depth < VOICED_MAX
    times = (np.arange(count) * HOP + WINDOW / 2) / rate
    return PitchTrack(midi=midi, voiced=voiced, rms=rms, times=times)


def _periods(frames: npt.NDArray[np.float32], tau_min: int, tau_max: int) -> tuple[Floats, Floats]:
    """Each frame's period (samples, refined) and its dip's depth in YIN's normalised difference."""
    size = 1 << (frames.shape[1] - 1).bit_length()
    head = np.fft.rfft(frames[:, :WINDOW], size)
    full = np.fft.rfft(frames, size)
    correlation = np.fft.irfft(np.conj(head) * full, size)[:, : tau_max + 1]
    zero = np.zeros((len(frames), 1), dtype=np.float32)
    energy = np.concatenate([zero, np.cumsum(frames * frames, axis=1)], axis=1)
    shifted = energy[:, WINDOW : WINDOW + tau_max + 1] - energy[:, : tau_max + 1]
    difference = np.maximum(energy[:, WINDOW : WINDOW + 1] + shifted - 2 * correlation, 0.0)
    running = np.cumsum(difference[:, 1:], axis=1)
    normalised = np.ones_like(difference)
    lags = np.arange(1, tau_max + 1, dtype=np.float32)
    normalised[:, 1:] = difference[:, 1:] * lags / np.maximum(running, 1e-12)
    tau, depth = _first_dip(normalised, tau_min, tau_max)
    period: Floats = tau.astype(np.float64) + _parabola(normalised, tau)
    return period, depth.astype(np.float64)


def _first_dip(
    normalised: npt.NDArray[np.floating[Any]], tau_min: int, tau_max: int
) -> tuple[Ints, Floats]:
    """Per frame, the bottom of the first dip under THRESHOLD (else the global minimum)."""
    window = normalised[:, tau_min:tau_max]
    following = normalised[:, tau_min + 1 : tau_max + 1]
    candidate = (window < THRESHOLD) & (following >= window)
    first = np.argmax(candidate, axis=1)
    lowest = np.argmin(window, axis=1)
    chosen = np.where(candidate.any(axis=1), first, lowest)
    rows = np.arange(len(window))
    tau: Ints = (chosen + tau_min).astype(np.int64)
    depth: Floats = window[rows, chosen]
    return tau, depth


def _parabola(values: npt.NDArray[np.floating[Any]], tau: Ints) -> Floats:
    """Sub-sample offset of the minimum at `tau` from a parabola through its neighbours."""
    rows = np.arange(len(values))
    left = values[rows, np.maximum(tau - 1, 0)]
    middle = values[rows, tau]
    right = values[rows, np.minimum(tau + 1, values.shape[1] - 1)]
    curvature = left - 2 * middle + right
    offset = np.where(curvature > 1e-12, (left - right) / (2 * np.maximum(curvature, 1e-12)), 0.0)
    result: Floats = np.clip(offset, -0.5, 0.5)
    return result


def pitched_notes(mono: Floats, rate: int, f_range: tuple[float, float]) -> list[Note]:
    """The notes of a monophonic line."""
    signal = resample(mono, rate, ANALYSIS_RATE)
    track = yin(signal, ANALYSIS_RATE, f_range)
    frame_s = HOP / ANALYSIS_RATE
    smoothed = _voiced_median(track.midi, track.voiced, max(1, round(SMOOTH_S / frame_s)))
    semitone = np.where(track.voiced, np.round(smoothed), -1).astype(np.int64)
    blocks = _block_rms(signal)
    width = math.ceil(1.2 * ANALYSIS_RATE / f_range[0] / HOP)
    runs = _runs(semitone, _level_onsets(blocks, width), round(MIN_NOTE_S / frame_s))
    notes: list[Note] = []
    previous_end = -1
    for i, (first, last) in enumerate(runs):
        pitch = int(np.round(np.median(track.midi[first : last + 1])))
        note_rms = float(np.median(track.rms[first : last + 1]))
        after = runs[i + 1][0] - 1 if i + 1 < len(runs) else len(blocks) - 1
        start, end = _edges(blocks, first, last, previous_end + 1, after, note_rms * EDGE_LEVEL)
        previous_end = end
        notes.append(Note(pitch, _block_time(start), _block_time(end + 1), velocity(note_rms)))
    return notes


def _level_onsets(blocks: Floats, width: int) -> Bools:
    """Blocks where the level rises ONSET_DB over its recent low (the first block of a rise).

    The level is the RMS over the last `width` blocks, which must span the
    longest period searched: over less, a low note's level wobbles with its
    waveform and would look re-struck.
    """
    power = np.concatenate([np.zeros(width), np.cumsum(blocks**2)])
    level = 10 * np.log10(np.maximum((power[width:] - power[:-width]) / width, 1e-18))
    previous_low = np.full(len(level), np.inf)
    for shift in range(1, width + 3):
        previous_low[shift:] = np.minimum(previous_low[shift:], level[:-shift])
    onset: Bools = np.asarray(level - previous_low > ONSET_DB)
    onset[1:] &= ~onset[:-1]  # a rise over several blocks is one onset
    return onset


def _voiced_median(values: Floats, voiced: Bools, width: int) -> Floats:
    """A centred running median of `values` over the voiced frames (unvoiced ones kept as they are).

    A median keeps a step between two notes where it is, unlike a mean, and
    over about a vibrato cycle it sits near the cycle's centre.
    """
    half = width // 2
    masked = np.pad(np.where(voiced, values, np.nan), half, constant_values=np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(masked, 2 * half + 1)
    with np.errstate(all="ignore"):
        median = np.nanmedian(np.where(voiced[:, None], windows, 0.0), axis=1)
    result: Floats = np.where(voiced, median, values)
    return result


def _runs(semitone: Ints, onset: Bools, min_frames: int) -> list[tuple[int, int]]:
    """(first, last) frames of each note: runs of one semitone, cut at onsets; short runs dropped.

    Two runs of the same semitone separated only by dropped frames (a
    vibrato swing into the next semitone, a short unvoiced gap) and no onset
    are one note.
    """
    if len(semitone) == 0:
        return []
    change = np.ones(len(semitone), dtype=bool)
    change[1:] = (semitone[1:] != semitone[:-1]) | onset[1:]
    starts = np.flatnonzero(change)
    ends = np.append(starts[1:] - 1, len(semitone) - 1)
    kept: list[tuple[int, int, int]] = []
    for first, last in zip(starts.tolist(), ends.tolist(), strict=True):
        value = int(semitone[first])
        if value < 0 or last - first + 1 < min_frames:
            continue
        if kept and kept[-1][2] == value and not onset[first] and first - kept[-1][1] <= min_frames:
            kept[-1] = (kept[-1][0], last, value)
        else:
            kept.append((first, last, value))
    return [(first, last) for first, last, _ in kept]


_BLOCK_OFFSET = WINDOW // 2 - HOP // 2
"""Block k is the HOP samples around frame k's window centre (k HOP + WINDOW / 2)."""


def _block_rms(signal: Floats) -> Floats:
    """RMS of the HOP-sample block around each frame's centre (see _BLOCK_OFFSET)."""
    count = max(1, math.ceil(len(signal) / HOP))
    padded = np.zeros(count * HOP)
    tail = signal[_BLOCK_OFFSET : _BLOCK_OFFSET + len(padded)]
    padded[: len(tail)] = tail
    blocks: Floats = np.sqrt((padded.reshape(count, HOP) ** 2).mean(axis=1))
    return blocks


def _block_time(block: int) -> float:
    """When block `block` starts, in seconds."""
    return (block * HOP + _BLOCK_OFFSET) / ANALYSIS_RATE


def _edges(
    blocks: Floats, first: int, last: int, before: int, after: int, floor: float
) -> tuple[int, int]:
    """The note's first and last blocks: where the level crosses `floor`, within its neighbours.

    The run is widened while the level stays above `floor` and trimmed
    where it is under (a YIN window that only just reaches the tone is
    already periodic, though its centre is still silent).
    """
    start = first
    while start - 1 >= max(before, 0) and blocks[start - 1] > floor:
        start -= 1
    while start < last and blocks[start] <= floor:
        start += 1
    end = last
    while end + 1 <= min(after, len(blocks) - 1) and blocks[end + 1] > floor:
        end += 1
    while end > start and blocks[end] <= floor:
        end -= 1
    return start, end


# --- drum stems --------------------------------------------------------------------------


def drum_notes(mono: Floats, rate: int) -> list[Note]:
    """Kick, snare and closed hi-hat hits: spectral-flux onsets labelled by band."""
    n_fft = int(2 ** max(7, round(math.log2(max(1, rate) * DRUM_FRAME_S))))
    hop = n_fft // 4
    count = max(1, math.ceil(len(mono) / hop))
    padded = np.zeros(count * hop + n_fft)
    padded[n_fft // 2 : n_fft // 2 + len(mono)] = mono
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop][:count]
    window = np.hanning(n_fft).astype(np.float32)
    power = np.abs(np.fft.rfft(frames.astype(np.float32) * window, axis=1)) ** 2
    peaks = _onsets(power, rate / hop)
    if len(peaks) == 0:
        return []
    freqs = np.fft.rfftfreq(n_fft, 1.0 / rate)
    bands = [freqs < KICK_HZ, (freqs >= SNARE_HZ[0]) & (freqs < SNARE_HZ[1]), freqs >= HAT_HZ]
    added, total = _added_power(power, peaks, bands)
    share = added / np.maximum(total, 1e-18)[:, None]
    relative = added / np.maximum(added.max(axis=0, keepdims=True), 1e-18)
    times = peaks * hop / rate
    # Parseval over the half spectrum: the window-weighted RMS of each frame.
    frame_rms = np.sqrt(2.0 * power.sum(axis=1) / (n_fft * float((window**2).sum())))
    notes: list[Note] = []
    for i, peak in enumerate(peaks.tolist()):
        start = float(times[i])
        end = min(start + DRUM_NOTE_S, float(times[i + 1]) if i + 1 < len(times) else math.inf)
        loud = velocity(float(frame_rms[peak : peak + 3].max()))
        notes.extend(Note(p, start, end, loud) for p in drum_pieces(share[i], relative[i]))
    return notes


def drum_pieces(share: Floats, relative: Floats) -> list[int]:
    """The GM pitches struck at one onset, from its added power per band (kick, snare, hat).

    `share` is each band's part of the onset's added power, `relative` each
    band's rise against the clip's strongest in that band. A band counts when
    it carries much of the onset, or rises like the clip's big hits there
    while still carrying a little of it (a hi-hat under a kick adds little
    power but as much as the other hi-hats).
    """
    low, snare, high = share
    kick = low >= 0.4 or (relative[0] >= 0.3 and low >= 0.15)
    snared = snare >= 0.25 or (relative[1] >= 0.3 and snare >= 0.05)
    hat = not snared and (high >= 0.5 or (relative[2] >= 0.3 and high >= 0.002))
    pieces = [pitch for pitch, hit in ((KICK, kick), (SNARE, snared), (CLOSED_HAT, hat)) if hit]
    if not pieces:
        # Toms and other mid-band hits: the nearest of the three.
        pieces = [KICK if low >= max(snare, high) else (SNARE if snare >= high else CLOSED_HAT)]
    return pieces


def _onsets(power: npt.NDArray[np.float32], frame_rate: float) -> Ints:
    """Frames where the log-magnitude flux peaks above its local mean."""
    log_mag = np.log1p(1000.0 * np.sqrt(power / max(float(power.max(initial=0.0)), 1e-18)))
    flux = np.zeros(len(power))
    flux[1:] = np.maximum(log_mag[1:] - log_mag[:-1], 0.0).sum(axis=1)
    reach = max(1, round(0.03 * frame_rate))
    padded = np.pad(flux, reach)
    local_max = np.lib.stride_tricks.sliding_window_view(padded, 2 * reach + 1).max(axis=1)
    span = max(1, round(0.15 * frame_rate))
    mean = np.convolve(flux, np.ones(2 * span + 1) / (2 * span + 1), mode="same")
    floor = mean + 0.05 * float(flux.max(initial=0.0))
    peaks: Ints = np.flatnonzero((flux >= local_max) & (flux > floor) & (flux > 0)).astype(np.int64)
    return peaks


def _added_power(
    power: npt.NDArray[np.float32], peaks: Ints, bands: list[Bools]
) -> tuple[Floats, Floats]:
    """Per onset, the power the three frames after it add over the two before: by band, in all."""
    last = len(power) - 1
    after = sum(power[np.minimum(peaks + k, last)] for k in range(3)) / 3
    before = (power[np.maximum(peaks - 2, 0)] + power[np.maximum(peaks - 1, 0)]) / 2
    gain = np.maximum(after - before, 0.0)
    added: Floats = np.stack([gain[:, band].sum(axis=1) for band in bands], axis=1)
    total: Floats = gain.sum(axis=1)
    return added, total
