"""separate_stems: exact stems for this engine's own tracks, generic separation for the rest.

When `params.source_track.recipe` is this engine's, the parts are simply
re-rendered (`render_parts`), aligned to the given audio (the decoded MP3:
the lag within +-4096 samples maximising the cross-correlation of the mixes,
then the least-squares gain) and returned by name:
- "separate_vocal": `vocals` (lead and backing voices) and `instrumental` =
  input - vocals, so the instrumental also holds the codec's noise and
  whatever the recipe does not know (an uploaded source of add_vocals...).
- "split_stem": the known parts under Suno's names (vocals, backing_vocals,
  drums, bass, guitar, keyboard, percussion, strings, synth, fx, brass,
  woodwinds), silent ones left out. The residual (input - known parts):
  when it is quiet (below -20 dB of the input: the codec's loss, mostly the
  hi-hats' top octave) it is added to the loudest stem, so the stems still
  sum to the input; when it is loud
  (an unknown source kept in the track) it is split by the generic
  separator and merged by name, or, if that is unavailable, returned as `fx`.
Audio without such a recipe goes to `separate.separate_generic`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reelserve.engines.base import Audio, EngineError, EngineRequest, StemsOutput
from reelserve.engines.synthetic.dsp import to_mono
from reelserve.engines.synthetic.music.analysis import align
from reelserve.engines.synthetic.music.derive import input_audio
from reelserve.engines.synthetic.music.recipe import source_recipe
from reelserve.engines.synthetic.music.render import mix_of, render_parts, shifted

STEM_NAMES = (
    "vocals",
    "backing_vocals",
    "drums",
    "bass",
    "guitar",
    "keyboard",
    "percussion",
    "strings",
    "synth",
    "fx",
    "brass",
    "woodwinds",
)
MODES = ("separate_vocal", "split_stem")
_SILENT = 1e-4
_RESIDUAL_DB = -20.0


def separate_stems(request: EngineRequest) -> StemsOutput:
    mode = str(request.params.get("mode") or "separate_vocal")
    if mode not in MODES:
        raise EngineError(f"mode must be one of {', '.join(MODES)}, got {mode!r}", fail_code=400)
    audio = input_audio(request, "separate_stems")
    recipe = source_recipe(request.params)
    if recipe is None or int(recipe["sample_rate"]) != audio.sample_rate:
        return StemsOutput(_generic(audio, mode))
    known = aligned_parts(recipe, audio)
    rate = audio.sample_rate
    if mode == "separate_vocal":
        vocals = sum_of(known, ("vocals", "backing_vocals"), len(audio.samples))
        instrumental = audio.samples.astype(np.float64) - vocals
        return StemsOutput(
            {"vocals": _audio(vocals, rate), "instrumental": _audio(instrumental, rate)}
        )
    return StemsOutput(_split(known, audio))


def aligned_parts(recipe: dict[str, Any], audio: Audio) -> dict[str, np.ndarray[Any, Any]]:
    """The recipe's parts (float64) shifted and scaled to best match `audio`."""
    parts = render_parts(recipe)
    if not parts:
        return {}
    lag, gain = align(to_mono(mix_of(parts)), to_mono(audio.samples))
    n = len(audio.samples)
    return {name: shifted(part, lag, n) * gain for name, part in parts.items()}


def sum_of(
    parts: dict[str, np.ndarray[Any, Any]], names: tuple[str, ...], n: int
) -> np.ndarray[Any, Any]:
    total = np.zeros((n, 2))
    for name in names:
        if name in parts:
            total += parts[name]
    return total


def _split(known: dict[str, np.ndarray[Any, Any]], audio: Audio) -> dict[str, Audio]:
    rate = audio.sample_rate
    n = len(audio.samples)
    stems = {
        name: part
        for name, part in known.items()
        if name in STEM_NAMES and float(np.abs(part).max()) > _SILENT
    }
    residual = audio.samples.astype(np.float64) - sum_of(known, tuple(known), n)
    level = float(np.sqrt(np.mean(audio.samples.astype(np.float64) ** 2)))
    rest = float(np.sqrt(np.mean(residual**2)))
    loud = level > 0 and 20 * np.log10(max(rest, 1e-12) / level) > _RESIDUAL_DB
    if loud:
        for name, stem in _generic(_audio(residual, rate), "split_stem").items():
            samples = stem.samples.astype(np.float64)[:n]
            stems[name] = stems[name] + samples if name in stems else samples
    elif stems:
        loudest = max(stems, key=lambda k: float(np.mean(stems[k] ** 2)))
        stems[loudest] = stems[loudest] + residual
    else:
        stems["fx"] = residual
    return {name: _audio(stems[name], rate) for name in STEM_NAMES if name in stems}


def _generic(audio: Audio, mode: str) -> dict[str, Audio]:
    """The other separator (imported lazily: it lives in its own module), or `fx` without it."""
    try:
        from reelserve.engines.synthetic.music.separate import (  # type: ignore[import-not-found,unused-ignore]
            separate_generic,
        )
    except ImportError:
        if mode == "separate_vocal":
            silent = np.zeros_like(audio.samples)
            return {"vocals": Audio(silent, audio.sample_rate), "instrumental": audio}
        return {"fx": audio}
    result: dict[str, Audio] = separate_generic(audio, mode)
    return result


def _audio(samples: np.ndarray[Any, Any], rate: int) -> Audio:
    return Audio(np.clip(samples, -1.0, 1.0).astype(np.float32), rate)
