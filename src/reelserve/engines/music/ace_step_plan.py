"""What an `ace-step` task asks ACE-Step for, and how its output becomes Suno tracks (no torch).

One Suno operation becomes one ACE-Step call per track (track k seeded with
seed + k), described by an `AceCall`:

- text_to_music: `text2music`, no source.
- extend_music: `repaint` from continue_at to the end, over the source up to
  continue_at padded with silence; everything before continue_at is kept.
- replace_section: `repaint` of the window; everything outside it is kept.
- cover_music: `cover` of the source (`audio_cover_strength`); nothing kept.
- add_vocals: `lego` with track "vocals" over the instrumental, which is
  mixed back under the vocal stem lego returns.
- add_instrumental: `complete` of the vocal with drums, bass, keys, guitar.

Repaint conditions ACE-Step on a mask rather than replacing samples, so the
kept part is put back from the source afterwards and joined to the new audio
with a short crossfade (`splice`). lego and complete need a base DiT (turbo
and SFT checkpoints do text2music, cover and repaint only); the child refuses
them on a turbo checkpoint.

The caption (ACE-Step's `prompt`) is the style, plus the vocal gender; bpm
and key come from the style words ("110 bpm", "in A minor") or a Suno
sound's tempo and key, else the model chooses. What is sung is the prompt in
custom mode; in non-custom mode the diffusers pipeline has no lyric writer
(ACE-Step's 5 Hz LM is not part of it), so template lyrics are written from
the idea by the synthetic lyric writer (procedural, `synthetic.music.lyrics`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from reelserve.engines.base import Audio, Capability, EngineError, EngineRequest, Sheet
from reelserve.engines.synthetic.music import lyrics as template

RATE = 48000
"""ACE-Step 1.5's VAE: 48 kHz stereo."""
CROSSFADE_S = 0.5
NON_CUSTOM_LINES = 8
INSTRUMENTAL = "[instrumental]"
DEFAULT_COMPLETE = ("drums", "bass", "keyboard", "guitar")
_BPM = re.compile(r"\b(\d{2,3})\s*bpm\b", re.IGNORECASE)
_KEY = re.compile(r"\b([A-G])\s*(#|b|sharp|flat)?\s*(major|minor|maj|min|m)\b", re.IGNORECASE)


@dataclass(frozen=True)
class AceCall:
    """One ACE-Step pipeline call (the same for each track but the seed)."""

    task_type: str
    caption: str
    lyrics: str
    duration_s: float
    bpm: int | None = None
    keyscale: str | None = None
    repaint: tuple[float, float] | None = None
    """(start, end) seconds of the repainted window; end -1: to the end."""
    cover_strength: float | None = None
    track_name: str | None = None
    complete_classes: tuple[str, ...] = ()
    keep: tuple[float, float] | None = None
    """The window (s) of the result that is new; outside it the source is put back."""
    mix_source: bool = False
    """add_vocals: lego returns the vocal stem alone; it is mixed over the source."""

    def arguments(self) -> dict[str, Any]:
        """The pipeline call's keyword arguments (no audio, seed or steps)."""
        args: dict[str, Any] = {
            "task_type": self.task_type,
            "prompt": self.caption,
            "lyrics": self.lyrics,
            "audio_duration": self.duration_s,
        }
        if self.bpm is not None:
            args["bpm"] = self.bpm
        if self.keyscale is not None:
            args["keyscale"] = self.keyscale
        if self.repaint is not None:
            args["repainting_start"], args["repainting_end"] = self.repaint
        if self.cover_strength is not None:
            args["audio_cover_strength"] = self.cover_strength
        if self.track_name is not None:
            args["track_name"] = self.track_name
        if self.complete_classes:
            args["complete_track_classes"] = list(self.complete_classes)
        return args


@dataclass(frozen=True)
class AcePlan:
    sheet: Sheet
    call: AceCall
    source: Audio | None
    """The source at 48 kHz stereo, as the call takes it (extend: padded with silence)."""
    original: Audio | None
    """The source at 48 kHz stereo, unpadded (what `splice` puts back)."""


def plan(request: EngineRequest, default_cover_strength: float = 0.5) -> AcePlan:
    """The sheet, the call and the source audio of one request; 400 for what cannot be done."""
    op = request.operation
    params = request.params
    if request.count < 1:
        raise EngineError(f"count must be at least 1, got {request.count}", 400)
    if request.duration_s <= 0:
        raise EngineError("ace-step needs the track length (duration_s) from the server", 400)
    style = str(params.get("style") or "")
    source_track = params.get("source_track")
    known: Mapping[str, Any] = source_track if isinstance(source_track, Mapping) else {}
    caption = _caption(style or str(known.get("tags") or ""), params, request, op)
    sung = _sung(request, known, op)
    title = _title(request, known, op)
    tags = style or str(known.get("tags") or "") or caption
    sheet = Sheet(title, sung, tags)
    bpm, keyscale = _tempo_and_key(style, params)
    lyrics = sung or INSTRUMENTAL
    duration = request.duration_s
    if op is Capability.TEXT_TO_MUSIC:
        call = AceCall("text2music", caption, lyrics, duration, bpm, keyscale)
        return AcePlan(sheet, call, None, None)
    if op not in OPERATIONS:
        raise EngineError(f"ace-step does not do {op.value}", 400)
    original = _source(request, op)
    if op is Capability.EXTEND_MUSIC:
        at = float(params.get("continue_at") or original.seconds)
        if not 0.0 < at <= original.seconds + 1e-6 or at >= duration:
            raise EngineError(
                f"continue_at must be in (0, {original.seconds:.2f}] s and before the "
                f"{duration:.2f} s of the result, got {at}",
                400,
            )
        kept = original.samples[: round(at * RATE)]
        padded = np.zeros((round(duration * RATE), 2), np.float32)
        padded[: len(kept)] = kept
        call = AceCall("repaint", caption, lyrics, duration, bpm, keyscale,
                       repaint=(at, -1.0), keep=(at, duration))  # fmt: skip
        return AcePlan(sheet, call, Audio(padded, RATE), Audio(kept, RATE))
    if op is Capability.REPLACE_SECTION:
        start = float(params.get("infill_start") or 0.0)
        end = float(params.get("infill_end") or 0.0)
        if not 0.0 <= start < end <= original.seconds + 1e-6:
            raise EngineError(
                f"the section to replace must lie in 0..{original.seconds:.2f} s "
                f"(infill_start < infill_end), got {start}..{end}",
                400,
            )
        call = AceCall("repaint", caption, lyrics, original.seconds, bpm, keyscale,
                       repaint=(start, end), keep=(start, end))  # fmt: skip
        return AcePlan(sheet, call, original, original)
    if op is Capability.COVER_MUSIC:
        weight = params.get("audio_weight")
        strength = float(weight) if weight is not None else default_cover_strength
        call = AceCall("cover", caption, lyrics, original.seconds, bpm, keyscale,
                       cover_strength=strength)  # fmt: skip
        return AcePlan(sheet, call, original, None)
    if op is Capability.ADD_VOCALS:
        if not template.lyric_lines(sung):
            raise EngineError("add_vocals needs lyrics in the prompt", 400)
        call = AceCall("lego", caption, lyrics, original.seconds, bpm, keyscale,
                       track_name="vocals", mix_source=True)  # fmt: skip
        return AcePlan(sheet, call, original, original)
    # add_instrumental
    call = AceCall("complete", caption, str(known.get("lyrics") or INSTRUMENTAL),
                   original.seconds, bpm, keyscale, complete_classes=DEFAULT_COMPLETE)  # fmt: skip
    return AcePlan(sheet, call, original, None)


OPERATIONS = frozenset(
    {
        Capability.TEXT_TO_MUSIC,
        Capability.EXTEND_MUSIC,
        Capability.REPLACE_SECTION,
        Capability.COVER_MUSIC,
        Capability.ADD_VOCALS,
        Capability.ADD_INSTRUMENTAL,
    }
)
BASE_ONLY = frozenset({"lego", "complete", "extract"})
"""Task types only a base DiT does (ACE-Step 1.5 README, "DiT Models")."""


def _source(request: EngineRequest, op: Capability) -> Audio:
    from reelserve.media.audio import resample

    audio = request.audio if request.audio is not None else next(iter(request.clips), None)
    if audio is None or len(audio.samples) == 0:
        raise EngineError(f"{op.value} needs an input audio track", 400)
    samples = audio.samples if audio.samples.ndim == 2 else audio.samples[:, None]
    if samples.shape[1] > 2:
        samples = samples[:, :2]
    at48 = resample(Audio(np.ascontiguousarray(samples, np.float32), audio.sample_rate), RATE, 2)
    return Audio(np.clip(at48.samples, -1.0, 1.0), RATE)


def _caption(style: str, params: Mapping[str, Any], request: EngineRequest, op: Capability) -> str:
    parts = [style] if style else []
    if not params.get("custom") and op is Capability.TEXT_TO_MUSIC and request.prompt:
        parts.append(request.prompt)  # a non-custom idea carries its style words
    gender = str(params.get("vocal_gender") or "")
    if gender in ("m", "f") and not params.get("instrumental"):
        parts.append("male vocals" if gender == "m" else "female vocals")
    sound = params.get("sound")
    if isinstance(sound, Mapping) and sound.get("loop"):
        parts.append("seamless loop")
    return ", ".join(p.strip() for p in parts if p.strip()) or "music"


def _sung(request: EngineRequest, known: Mapping[str, Any], op: Capability) -> str:
    """The lyrics the result sings ("" for an instrumental)."""
    params = request.params
    if params.get("instrumental") or isinstance(params.get("sound"), Mapping):
        return ""
    if op is Capability.ADD_INSTRUMENTAL:
        return str(known.get("lyrics") or "")
    prompt = request.prompt
    as_lyrics = bool(params.get("custom")) or "\n" in prompt.strip() or "[" in prompt
    if as_lyrics and template.lyric_lines(prompt):
        return prompt
    if op is Capability.TEXT_TO_MUSIC and params.get("custom"):
        raise EngineError("custom mode with vocals needs lyrics in the prompt", 400)
    if op is Capability.COVER_MUSIC and known:
        return str(known.get("lyrics") or "")
    idea = prompt or str(known.get("title") or "")
    if not idea.strip() or (op is Capability.EXTEND_MUSIC and known and not known.get("lyrics")):
        return ""
    return template.write_lyrics(idea, request.seed, 0, NON_CUSTOM_LINES)[1]


def _title(request: EngineRequest, known: Mapping[str, Any], op: Capability) -> str:
    title = str(request.params.get("title") or "").strip() or str(known.get("title") or "")
    if title:
        return title
    if op is Capability.TEXT_TO_MUSIC and not request.params.get("custom") and request.prompt:
        return template.write_lyrics(request.prompt, request.seed, 0, NON_CUSTOM_LINES)[0]
    words = template.content_words(request.prompt or str(request.params.get("style") or ""))
    return " ".join(w.capitalize() for w in words[:3]) or "Untitled"


def _tempo_and_key(style: str, params: Mapping[str, Any]) -> tuple[int | None, str | None]:
    sound = params.get("sound")
    bpm: int | None = None
    keyscale: str | None = None
    if isinstance(sound, Mapping):
        bpm = int(sound["tempo"]) if sound.get("tempo") else None
        keyscale = _keyscale(str(sound.get("key") or ""))
    if bpm is None and (found := _BPM.search(style)):
        bpm = int(found.group(1))
    if keyscale is None:
        keyscale = _keyscale(style)
    return (bpm if bpm is None or 30 <= bpm <= 300 else None), keyscale


def _keyscale(text: str) -> str | None:
    """'Am' / 'F# major' / 'in Bb minor' -> ACE-Step's 'A minor', 'F# major', 'Bb minor'."""
    found = _KEY.search(text) or re.fullmatch(r"\s*([A-G])(#|b)?(m)?\s*", text)
    if not found:
        return None
    note, accidental, mode = found.group(1).upper(), found.group(2) or "", found.group(3) or ""
    accidental = {"sharp": "#", "flat": "b"}.get(accidental.lower(), accidental)
    minor = mode.lower() in ("minor", "min", "m")
    return f"{note}{accidental} {'minor' if minor else 'major'}"


def finish(
    plan: AcePlan, generated: np.ndarray, rate: int, duration_s: float, out_rate: int
) -> Audio:
    """A track from the call's output ((2, n) at `rate`): the source put back where it is kept,
    a crossfade at each join, clipped, exactly `duration_s` long at `out_rate`."""
    from reelserve.media.audio import resample

    out = np.ascontiguousarray(np.asarray(generated, np.float32).T)
    if out.ndim != 2 or out.shape[1] not in (1, 2):
        raise EngineError(f"ace-step returned audio of shape {generated.shape}")
    if out.shape[1] == 1:
        out = np.repeat(out, 2, axis=1)
    out = _fit(out, round(plan.call.duration_s * rate))
    source = plan.original.samples if plan.original is not None else None
    if source is not None and rate != RATE:
        raise EngineError(f"ace-step returned {rate} Hz audio; its VAE makes {RATE} Hz")
    if source is not None and plan.call.mix_source:
        out = _fit(source, len(out)) + out
    elif source is not None and plan.call.keep is not None:
        start, end = plan.call.keep
        out = splice(_fit(source, len(out)), out, round(start * rate), round(end * rate), rate)
    track = resample(Audio(np.clip(out, -1.0, 1.0), rate), out_rate, 2)
    return Audio(np.clip(_fit(track.samples, round(duration_s * out_rate)), -1.0, 1.0), out_rate)


def splice(source: np.ndarray, new: np.ndarray, start: int, end: int, rate: int) -> np.ndarray:
    """`source` with samples start..end taken from `new`, crossfading CROSSFADE_S at each join."""
    result = source.copy()
    result[start:end] = new[start:end]
    fade = min(round(CROSSFADE_S * rate), start, max(0, end - start) // 2)
    if fade > 0:  # fade from the source into the new audio just before `start`
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)[:, None]
        window = slice(start - fade, start)
        result[window] = source[window] * (1 - ramp) + new[window] * ramp
    tail = min(round(CROSSFADE_S * rate), len(source) - end, max(0, end - start) // 2)
    if tail > 0:  # and back into the source just after `end`
        ramp = np.linspace(1.0, 0.0, tail, dtype=np.float32)[:, None]
        window = slice(end, end + tail)
        result[window] = new[window] * ramp + source[window] * (1 - ramp)
    return result


def _fit(samples: np.ndarray, length: int) -> np.ndarray:
    if len(samples) >= length:
        return np.ascontiguousarray(samples[:length], np.float32)
    pad = np.zeros((length - len(samples), samples.shape[1]), np.float32)
    return np.concatenate([samples.astype(np.float32), pad])
