"""Procedural audio: video soundtracks, sound effects and a band-pass/noise-gate "isolation".

Not AI, and it does not pretend to be: a soundtrack is a chord picked from
the prompt's hash with a pulse that follows the sprites' speed; an effect is
one of a few synthesised families (sweep, impact, drone, chime, rain,
whoosh) chosen by keyword or hash; isolation is spectral subtraction of the
clip's own noise floor inside the voice band. All deterministic.
"""

from __future__ import annotations

import math

import numpy as np

from reelserve.engines.base import Audio, AudioOutput, EngineError, EngineRequest
from reelserve.engines.synthetic.dsp import (
    Floats,
    band,
    fft_size,
    filtered,
    finish,
    istft,
    seeded_rng,
    smooth,
    stable_fraction,
    stft,
    to_mono,
)
from reelserve.engines.synthetic.scene import Look, motion_speed

_SEMITONE = 2 ** (1 / 12)
# Chord shapes (semitones over the root): major, minor, sus2, major 7th.
_CHORDS = ((0, 4, 7), (0, 3, 7), (0, 2, 7), (0, 4, 7, 11))


def soundtrack(request: EngineRequest, look: Look, seconds: float) -> Audio:
    """Stereo, exactly round(seconds * sample_rate) samples: a chord plus a motion-tied pulse.

    The chord (root, shape) follows the prompt and seed like the picture
    does; the pulse is a soft low thump at a tempo from the look, loud when
    the sprites move fast, so the sound visibly belongs to the video.
    """
    rate = request.sample_rate
    n = round(seconds * rate)
    rng = seeded_rng("soundtrack", request.prompt, request.seed)
    t = np.arange(n) / rate
    root = 110.0 * _SEMITONE ** int(rng.integers(0, 12))
    shape = _CHORDS[int(rng.integers(0, len(_CHORDS)))]
    left, right = np.zeros(n), np.zeros(n)
    for k, step in enumerate(shape):
        freq = root * _SEMITONE**step
        # Slightly detuned per side: a wide, beating pad instead of a test tone.
        tremolo = 0.75 + 0.25 * np.sin(2 * np.pi * (0.15 + 0.05 * k) * t + k)
        left += tremolo * np.sin(2 * np.pi * freq * 0.998 * t) / (k + 1.5)
        right += tremolo * np.sin(2 * np.pi * freq * 1.002 * t + 0.5) / (k + 1.5)
    bpm = 70.0 + 60.0 * float(rng.random())
    beat = (t * bpm / 60.0) % 1.0
    # Speed at 50 points a second is plenty for a beat envelope; interpolated per sample.
    grid = np.arange(math.ceil(seconds * 50) + 1) / 50.0
    speed = np.interp(t, grid, motion_speed(look, grid)) if look.sprites else np.zeros(n)
    drive = np.clip(speed / (speed.max() + 1e-9), 0.0, 1.0) if n else speed
    pulse = np.exp(-beat * 9.0) * np.sin(2 * np.pi * 55.0 * t) * (0.3 + 0.7 * drive)
    left, right = 0.6 * left + 0.5 * pulse, 0.6 * right + 0.5 * pulse
    return Audio(finish([left, right], peak=0.6, rate=rate), rate)


# Keywords that pick an effect family before the hash does (English only; it is a toy).
_KEYWORDS = {
    "impact": ("impact", "hit", "explosion", "boom", "punch", "slam", "thud", "door", "crash"),
    "rain": ("rain", "crackle", "fire", "applause", "static", "drizzle", "sizzle"),
    "whoosh": ("whoosh", "swoosh", "wind", "swish", "fly", "pass"),
    "chime": ("bell", "chime", "ding", "notification", "ring", "glass", "magic"),
    "drone": ("drone", "hum", "engine", "ambient", "ambience", "space", "pad"),
    "sweep": ("sweep", "riser", "laser", "siren", "sci-fi", "alarm", "zap"),
}
EFFECTS = tuple(_KEYWORDS)


def effect_family(prompt: str) -> str:
    """The family a prompt gets: the first keyword family it mentions, else one by hash."""
    words = prompt.lower()
    for family, keys in _KEYWORDS.items():
        if any(key in words for key in keys):
            return family
    return EFFECTS[int(stable_fraction("effect", prompt) * len(EFFECTS))]


def sound_effect(request: EngineRequest) -> AudioOutput:
    """`duration_s` (default 5) seconds of stereo effect; seamless end-to-start when `loop`."""
    rate = request.sample_rate
    seconds = request.duration_s if request.duration_s > 0 else 5.0
    n = round(seconds * rate)
    if n <= 0 or rate <= 0:
        raise EngineError(f"invalid effect length {seconds} s at {rate} Hz", fail_code=400)
    loop = bool(request.params.get("loop"))
    family = effect_family(request.prompt)
    # A loop is rendered a little longer; the overhang is cross-faded into the start.
    overlap = min(n // 4, round(0.25 * rate)) if loop else 0
    total = n + overlap
    channels = []
    for side in (0, 1):
        rng = seeded_rng("effect", request.prompt, request.seed, side)
        channels.append(_render(family, total, rate, rng, loop))
    if overlap:
        fade = np.linspace(0.0, 1.0, overlap)
        for ch in channels:
            ch[:overlap] = ch[:overlap] * fade + ch[n:] * (1.0 - fade)
    samples = finish(
        [ch[:n] for ch in channels], peak=0.8, fade_s=0.0 if loop else 0.005, rate=rate
    )
    return AudioOutput(Audio(samples, rate))


def _render(family: str, n: int, rate: int, rng: np.random.Generator, loop: bool) -> Floats:
    t = np.arange(n) / rate
    seconds = max(n / rate, 1e-6)
    noise = rng.standard_normal(n)
    if family == "sweep":
        # A noise band gliding up then down (or the reverse), like a riser or siren.
        low, high = 300.0 + 300 * rng.random(), 4000.0 + 3000 * rng.random()
        cycles = 1.0 if loop else 0.5 + rng.random()

        def gliding(tt: Floats, f: Floats) -> Floats:
            sweep = 0.5 - 0.5 * np.cos(2 * np.pi * cycles * tt / seconds)
            centre = low * (high / low) ** sweep
            return band(f, centre, centre * 1.6)

        return filtered(noise, rate, gliding)
    if family == "impact":
        every = seconds if not loop else seconds / max(1, round(seconds / 1.5))
        local = t % every
        thump = np.sin(2 * np.pi * (40 + 80 * np.exp(-local * 12)) * local) * np.exp(-local * 5)
        crack = filtered(noise, rate, lambda tt, f: band(f, 800.0, 6000.0)) * np.exp(-local * 25)
        return thump + 0.5 * crack
    if family == "drone":
        base = 55.0 * 2 ** float(rng.integers(0, 4) / 2)
        voices = sum(
            np.sin(2 * np.pi * base * ratio * t + float(rng.uniform(0, 6)))
            for ratio in (1.0, 1.005, 1.5, 2.003)
        )
        wobble = 0.7 + 0.3 * np.sin(2 * np.pi * t * (round(seconds * 0.2) or 1) / seconds)
        return np.asarray(voices, dtype=np.float64) * wobble
    if family == "chime":
        out = np.zeros(n)
        strikes = max(1, round(seconds / 1.2))
        fundamental = 440.0 * _SEMITONE ** int(rng.integers(0, 12))
        for k in range(strikes):
            local = (t - k * seconds / strikes) % seconds  # wraps round for loops
            for ratio, decay in ((1.0, 1.5), (2.76, 2.5), (5.4, 4.0), (8.93, 6.0)):
                out += (
                    np.sin(2 * np.pi * fundamental * ratio * local) * np.exp(-local * decay) / ratio
                )
        return out
    if family == "rain":
        drops = (rng.random(n) < 300.0 / rate) * rng.uniform(0.3, 1.0, n)
        bed = filtered(noise, rate, lambda tt, f: band(f, 1500.0, 9000.0)) * 0.3
        clicks = filtered(drops * np.sign(noise), rate, lambda tt, f: band(f, 2000.0, 12000.0))
        return bed + 3.0 * clicks
    # whoosh: a noise swell whose band follows its loudness.
    swell = (
        np.sin(np.pi * (t / seconds)) ** 2
        if not loop
        else 0.5 - 0.5 * np.cos(2 * np.pi * t / seconds)
    )
    return (
        filtered(noise, rate, lambda tt, f: band(f, 200.0 + 1500 * _swell(tt, seconds), 3000.0))
        * swell
    )


def _swell(times: Floats, seconds: float) -> Floats:
    result: Floats = np.sin(np.pi * np.clip(times / seconds, 0.0, 1.0)) ** 2
    return result


def audio_isolation(request: EngineRequest) -> AudioOutput:
    """The input clip, same length and channels, band-passed to the voice band and noise-gated.

    Per channel: STFT, subtract 2.5x the clip's own noise level (estimated
    from the 20th percentile of each bin's power over time) and keep
    80 Hz - 8 kHz. Honest
    signal processing, no separation model: music under a voice stays.
    """
    if request.audio is None or len(request.audio.samples) == 0:
        raise EngineError("audio_isolation needs an input audio clip", fail_code=400)
    clip = request.audio
    rate = clip.sample_rate
    n_fft = fft_size(rate)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / rate).astype(np.float64)
    passband = band(freqs, 80.0, 8000.0)
    out = []
    for c in range(clip.samples.shape[1]):
        signal = clip.samples[:, c].astype(np.float64)
        spectrum = stft(signal, n_fft)
        power = np.abs(spectrum) ** 2
        # Noise power in a bin is ~exponential, whose 20th percentile is 0.223 x its mean.
        noise_mean = np.percentile(power, 20, axis=0) / 0.223
        gain = np.sqrt(np.clip(1.0 - 2.5 * noise_mean / np.maximum(power, 1e-12), 0.0, 1.0))
        # Smoothed over ~3 frames so the gate does not chatter ("musical noise").
        gain = np.apply_along_axis(smooth, 0, gain, 3)
        out.append(istft(spectrum * gain * passband, len(signal), n_fft))
    stacked = np.clip(np.stack(out, axis=1), -1.0, 1.0).astype(np.float32)
    return AudioOutput(Audio(stacked, rate))


def fitted(audio: Audio, seconds: float) -> Audio:
    """`audio` trimmed or padded with silence to exactly round(seconds * rate) samples."""
    n = round(seconds * audio.sample_rate)
    samples = audio.samples
    if len(samples) >= n:
        return Audio(samples[:n], audio.sample_rate)
    pad = np.zeros((n - len(samples), samples.shape[1]), dtype=np.float32)
    return Audio(np.concatenate([samples.astype(np.float32), pad]), audio.sample_rate)


def envelope(audio: Audio, count: int, seconds: float) -> Floats:
    """RMS of `audio` in `count` equal slices of `seconds`, normalised to [0, 1] (95th pct = 1)."""
    mono = to_mono(audio.samples)
    edges = np.round(np.linspace(0.0, seconds * audio.sample_rate, count + 1)).astype(int)
    rms = np.zeros(count)
    for i in range(count):
        part = mono[edges[i] : edges[i + 1]]
        rms[i] = math.sqrt(float(np.mean(part**2))) if len(part) else 0.0
    top = float(np.percentile(rms, 95)) if count else 0.0
    result: Floats = np.clip(rms / top, 0.0, 1.0) if top > 0 else rms
    return result
