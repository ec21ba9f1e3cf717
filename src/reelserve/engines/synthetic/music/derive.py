"""Songs made from an input track: extend, replace a section, add vocals or an accompaniment,
cover, mashup. Procedural, not AI.

The musical frame (key, tempo, beat grid, profile, voice) of an input comes
from its recipe when this engine made it (`params.source_track.recipe`,
re-rendered and aligned to the input by cross-correlation), else from
listening to it (`analysis`: onset periodicity, chroma key). The added music
is a score (`compose`) in that frame; the input is kept as a recipe
`source` with a window, so:
- extend_music: the output is the input, sample for sample, up to
  `continue_at`; the input then fades out over 100 ms while the continuation
  (same key, tempo and bar grid) fades in; `duration_s` long in all.
- replace_section: outside [infill_start, infill_end) the output is the
  input exactly; inside, 50 ms raised-cosine crossfades (inside the span)
  into and out of the new section.
- add_vocals / add_instrumental: the input at full length plus the voice /
  drums, bass and chords; one headroom scale for all when the sum would clip.
- cover_music: a new rendering only (no input samples): the input's tempo,
  key and pitch contour (or, for this engine's tracks, its syllables and
  melody) played or sung in the new style.
- mashup_music: the clips in turn, each beat-aligned to the previous one at a
  crossfade of one beat on the output's beat grid, with new drums under each.
The added parts' level is matched to the input's loudness where they meet.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from reelserve.engines.base import (
    Audio,
    EngineError,
    EngineRequest,
    MusicOutput,
    ProgressFn,
    Sheet,
    Track,
)
from reelserve.engines.synthetic.dsp import to_mono
from reelserve.engines.synthetic.music import analysis
from reelserve.engines.synthetic.music import lyrics as lyr
from reelserve.engines.synthetic.music.compose import Plan, compose, profile_from_dict
from reelserve.engines.synthetic.music.recipe import (
    first_score,
    new_recipe,
    persona_voice,
    source_recipe,
)
from reelserve.engines.synthetic.music.render import (
    MIX,
    mix_of,
    render_parts,
    render_score,
    stereo,
)
from reelserve.engines.synthetic.music.song import finish_track
from reelserve.engines.synthetic.music.style import Profile, profile_for
from reelserve.engines.synthetic.music.theory import Key
from reelserve.engines.synthetic.music.voice import voice_settings
from reelserve.media.audio import resample

EXTEND_FADE_S = 0.1
REPLACE_FADE_S = 0.05
_LEVEL_S = 8.0


@dataclass(frozen=True)
class Frame:
    """The musical frame of an input: what added music must agree with."""

    key: Key
    tempo: float
    beat0: float
    profile: Profile
    voice: dict[str, Any] | None
    style: str
    recipe: dict[str, Any] | None  # the input's recipe (this engine's), for `sources[].recipe`
    align: dict[str, float]  # {lag, gain} of that recipe's render against the input


def input_audio(request: EngineRequest, what: str) -> Audio:
    """`request.audio` as stereo float32 at the request's rate; 400 when missing or empty."""
    audio = request.audio
    if audio is None or len(audio.samples) == 0:
        raise EngineError(f"{what} needs an input audio track", fail_code=400)
    return as_track_audio(audio, request.sample_rate)


def as_track_audio(audio: Audio, rate: int) -> Audio:
    if audio.sample_rate != rate:
        audio = resample(audio, rate)
    return Audio(np.ascontiguousarray(stereo(audio.samples), dtype=np.float32), rate)


def listen(request: EngineRequest, audio: Audio, style_key: str = "style") -> Frame:
    """The frame of `audio`: from its recipe when this engine made it, else estimated."""
    params = request.params
    style = str(params.get(style_key) or params.get("style") or "")
    recipe = source_recipe(params)
    score = first_score(recipe) if recipe else None
    if recipe is not None and score is not None and int(recipe["sample_rate"]) == audio.sample_rate:
        rendered = mix_of(render_parts(recipe))
        lag, gain = analysis.align(to_mono(rendered), to_mono(audio.samples))
        profile = profile_for(style) if style else profile_from_dict(score["profile"])
        return Frame(
            key=Key.from_dict(score["key"]),
            tempo=float(score["tempo"]),
            beat0=float(score["beat0"]) + lag / audio.sample_rate,
            profile=profile,
            voice=score.get("voice"),
            style=style or str(recipe.get("tags", "")),
            recipe=recipe,
            align={"lag": lag, "gain": round(gain, 9)},
        )
    track = params.get("source_track")
    tags = str(track.get("tags", "")) if isinstance(track, Mapping) else ""
    style = style or tags
    beat = analysis.estimate_beat(audio.samples, audio.sample_rate)
    key = analysis.estimate_key(audio.samples, audio.sample_rate)
    return Frame(key, beat.tempo, beat.beat0, profile_for(style), None, style, None, {})


def _voice(request: EngineRequest, frame: Frame, seed: int) -> dict[str, Any]:
    persona = persona_voice(request.params)
    gender = str(request.params.get("vocal_gender") or "")
    if persona is None and frame.voice and not gender:
        persona = dict(frame.voice)
    return voice_settings(gender, seed, persona)


def _lyrics(request: EngineRequest, idea: str, lines: int, sung: bool = True) -> str:
    """What is sung: the prompt as lyrics in custom mode (or when it has several lines or tags),
    else template lyrics from the idea (the prompt, or `idea`) when `sung`; "" when instrumental."""
    params = request.params
    if params.get("instrumental"):
        return ""
    prompt = request.prompt
    as_lyrics = bool(params.get("custom")) or "\n" in prompt.strip() or "[" in prompt
    if lyr.lyric_lines(prompt) and as_lyrics:
        return prompt
    text = prompt or idea
    if not sung or not text.strip():
        return ""
    return lyr.write_lyrics(text, request.seed, 0, lines)[1]


def _source_entry(
    frame: Frame, window: list[float | None] | None, gain: float = 1.0
) -> dict[str, Any]:
    return {
        "index": 0,
        "shift": 0,
        "gain": gain,
        "window": window,
        "recipe": frame.recipe,
        "align": frame.align,
    }


def _level(
    score: dict[str, Any], mix: Mapping[str, Any], rate: int, start: float, end: float
) -> float:
    """RMS of a score's parts (unit layer gain) between two times, from a short render."""
    end = min(end, start + _LEVEL_S)
    n = round(end * rate)
    a = round(start * rate)
    total = np.zeros(max(0, n - a))
    for name, mono in render_score(score, rate, n).items():
        total += mono[a:] * float(mix.get(name, MIX.get(name, (0.3, 0.0)))[0])
    return float(np.sqrt(np.mean(total**2))) if len(total) else 0.0


def _matched_gain(
    score: dict[str, Any], rate: int, start: float, end: float, target: float
) -> float:
    level = _level(score, MIX, rate, start, end)
    if level <= 0 or target <= 0:
        return 1.0
    return round(float(np.clip(target / level, 0.05, 20.0)), 9)


def _sheets(count: int, title: str, lyrics: str, tags: str) -> list[Sheet]:
    return [Sheet(title, lyrics, tags) for _ in range(count)]


def _title(request: EngineRequest, fallback: str) -> str:
    track = request.params.get("source_track")
    source_title = str(track.get("title", "")) if isinstance(track, Mapping) else ""
    return str(request.params.get("title") or source_title or fallback)


def _output(
    request: EngineRequest,
    title: str,
    lyrics: str,
    tags: str,
    make: Any,
    progress: ProgressFn,
) -> MusicOutput:
    def tracks() -> Iterator[Track]:
        for k in range(request.count):
            yield make(request.seed + k)
            progress((k + 1) / request.count)

    return MusicOutput(_sheets(request.count, title, lyrics, tags), tracks())


def extend_music(request: EngineRequest, progress: ProgressFn) -> MusicOutput:
    """The input kept up to `continue_at` exactly, then continued in its key and tempo."""
    audio = input_audio(request, "extend_music")
    continue_at = float(request.params.get("continue_at") or 0.0)
    if not 0.0 < continue_at <= audio.seconds:
        raise EngineError(
            f"continue_at must be in (0, {audio.seconds:.2f}] s, got {continue_at}", fail_code=400
        )
    frame = listen(request, audio)
    track = request.params.get("source_track")
    source_title = str(track.get("title", "")) if isinstance(track, Mapping) else ""
    source_sung = bool(track.get("lyrics")) if isinstance(track, Mapping) else True
    lyrics = _lyrics(request, source_title, 8, sung=source_sung)
    duration = request.duration_s or continue_at + 30.0 + 4.0 * len(lyr.lyric_lines(lyrics))
    if duration <= continue_at:
        raise EngineError(f"duration {duration} s must pass continue_at {continue_at} s", 400)
    title = _title(request, "Extended")
    rate = request.sample_rate
    target = analysis.loudness(audio.samples, rate, continue_at - 6.0, continue_at)

    def make(seed: int) -> Track:
        voice = _voice(request, frame, seed) if lyr.lyric_lines(lyrics) else None
        plan = Plan(
            key=frame.key,
            tempo=frame.tempo,
            profile=frame.profile,
            seed=seed,
            end_s=duration,
            start_s=continue_at,
            beat0=frame.beat0,
            lyric_sections=lyr.sections(lyrics),
            voice=voice,
            intro_bars=1,
        )
        score = compose(plan)
        score["fades"] = [0.0, min(3.0, (duration - continue_at) / 4)]
        recipe = new_recipe(request, "extend_music", seed, duration, title, frame.style)
        fade_end = continue_at + EXTEND_FADE_S
        gain = _matched_gain(score, rate, continue_at, duration, target)
        recipe.update(
            lyrics=lyrics,
            key=frame.key.to_dict(),
            tempo=frame.tempo,
            continue_at=continue_at,
            headroom=1.0,
        )
        recipe["layers"] = [
            {"score": score, "gain": gain, "window": [continue_at, fade_end, None, None]}
        ]
        recipe["sources"] = [_source_entry(frame, [None, None, continue_at, fade_end])]
        return finish_track(recipe, [audio], title, frame.style, seed)

    return _output(request, title, lyrics, frame.style, make, progress)


def replace_section(request: EngineRequest, progress: ProgressFn) -> MusicOutput:
    """Only [infill_start, infill_end) changes: a new section from `prompt` in the input's frame."""
    audio = input_audio(request, "replace_section")
    start = float(request.params.get("infill_start") or 0.0)
    end = float(request.params.get("infill_end") or 0.0)
    if not 0.0 <= start < end <= audio.seconds + 1e-6:
        raise EngineError(
            f"the infill span must be inside the track (0..{audio.seconds:.2f} s), "
            f"got {start}..{end}",
            fail_code=400,
        )
    if end - start < 2 * REPLACE_FADE_S:
        raise EngineError("the infill span is too short", fail_code=400)
    frame = listen(request, audio, "style")
    duration = request.duration_s or audio.seconds
    lyrics = _lyrics(request, "", 4)
    title = _title(request, "Replaced")
    rate = request.sample_rate
    target = analysis.loudness(audio.samples, rate, start, end)

    def make(seed: int) -> Track:
        voice = _voice(request, frame, seed) if lyr.lyric_lines(lyrics) else None
        plan = Plan(
            key=frame.key,
            tempo=frame.tempo,
            profile=frame.profile,
            seed=seed,
            end_s=end,
            start_s=start,
            beat0=frame.beat0,
            lyric_sections=lyr.sections(lyrics),
            voice=voice,
            intro_bars=1,
            outro=False,
        )
        score = compose(plan)
        recipe = new_recipe(request, "replace_section", seed, duration, title, frame.style)
        recipe.update(
            lyrics=lyrics,
            key=frame.key.to_dict(),
            tempo=frame.tempo,
            infill=[start, end],
            headroom=1.0,
        )
        fade_in, fade_out = start + REPLACE_FADE_S, end - REPLACE_FADE_S
        gain = _matched_gain(score, rate, start, end, target)
        recipe["layers"] = [
            {"score": score, "gain": gain, "window": [start, fade_in, fade_out, end]}
        ]
        recipe["sources"] = [
            _source_entry(frame, [None, None, start, fade_in]),
            _source_entry(frame, [fade_out, end, None, None]),
        ]
        return finish_track(recipe, [audio], title, frame.style, seed)

    return _output(request, title, lyrics, frame.style, make, progress)


def add_vocals(request: EngineRequest, progress: ProgressFn) -> MusicOutput:
    """A voice singing `prompt` over the input (kept whole), in the input's key and tempo."""
    audio = input_audio(request, "add_vocals")
    frame = listen(request, audio)
    sung = replace(request, params={**request.params, "instrumental": False, "custom": True})
    lyrics = _lyrics(sung, "", 8)
    if not lyr.lyric_lines(lyrics):
        raise EngineError("add_vocals needs lyrics in the prompt", fail_code=400)
    duration = request.duration_s or audio.seconds
    title = _title(request, "With Vocals")
    rate = request.sample_rate
    target = analysis.loudness(audio.samples, rate, 0.0, duration)

    def make(seed: int) -> Track:
        plan = Plan(
            key=frame.key,
            tempo=frame.tempo,
            profile=frame.profile,
            seed=seed,
            end_s=duration,
            beat0=frame.beat0 % (240.0 / frame.tempo),
            lyric_sections=lyr.sections(lyrics),
            voice=_voice(request, frame, seed),
            parts=frozenset(),
        )
        score = compose(plan)
        return _overlay(
            request, "add_vocals", score, frame, audio, seed, title, lyrics, 0.9 * target
        )

    return _output(request, title, lyrics, frame.style, make, progress)


def add_instrumental(request: EngineRequest, progress: ProgressFn) -> MusicOutput:
    """Drums, bass and chords in `params.style` under the input vocal (kept whole)."""
    audio = input_audio(request, "add_instrumental")
    frame = listen(request, audio)
    duration = request.duration_s or audio.seconds
    title = _title(request, "With Band")
    rate = request.sample_rate
    target = analysis.loudness(audio.samples, rate, 0.0, duration)
    track = request.params.get("source_track")
    lyrics = str(track.get("lyrics", "")) if isinstance(track, Mapping) else ""

    def make(seed: int) -> Track:
        plan = Plan(
            key=frame.key,
            tempo=frame.tempo,
            profile=frame.profile,
            seed=seed,
            end_s=duration,
            beat0=frame.beat0 % (240.0 / frame.tempo),
            melody=[],
        )
        score = compose(plan)
        score["fades"] = [0.0, min(3.0, duration / 5)]
        return _overlay(
            request, "add_instrumental", score, frame, audio, seed, title, lyrics, target
        )

    return _output(request, title, lyrics, frame.style, make, progress)


def _overlay(
    request: EngineRequest,
    op: str,
    score: dict[str, Any],
    frame: Frame,
    audio: Audio,
    seed: int,
    title: str,
    lyrics: str,
    target: float,
) -> Track:
    """The input plus `score` at a matched level, one headroom scale when the sum would clip."""
    rate = request.sample_rate
    duration = request.duration_s or audio.seconds
    recipe = new_recipe(request, op, seed, duration, title, frame.style)
    recipe.update(lyrics=lyrics, key=frame.key.to_dict(), tempo=frame.tempo)
    gain = _matched_gain(score, rate, 0.0, duration, target)
    recipe["layers"] = [{"score": score, "gain": gain, "window": None}]
    recipe["sources"] = [_source_entry(frame, None)]
    track = finish_track(recipe, [audio], title, frame.style, seed)
    return track


def cover_music(request: EngineRequest, progress: ProgressFn) -> MusicOutput:
    """The input's timing and melody re-rendered in `params.style` (no input samples kept)."""
    audio = input_audio(request, "cover_music")
    frame = listen(request, audio)
    style = str(request.params.get("style") or frame.style)
    profile = profile_for(style)
    duration = request.duration_s or audio.seconds
    track = request.params.get("source_track")
    source_lyrics = str(track.get("lyrics", "")) if isinstance(track, Mapping) else ""
    instrumental = bool(request.params.get("instrumental"))
    custom = bool(request.params.get("custom"))
    lyrics = "" if instrumental else (request.prompt if custom else source_lyrics)
    title = _title(request, "Cover")
    known = frame.recipe is not None
    melody = None if (known and lyrics) else _contour(audio, frame, duration)

    def make(seed: int) -> Track:
        voice = _voice(request, frame, seed) if lyr.lyric_lines(lyrics) else None
        plan = Plan(
            key=frame.key,
            tempo=frame.tempo,
            profile=profile,
            seed=seed,
            end_s=duration,
            beat0=frame.beat0 % (240.0 / frame.tempo),
            lyric_sections=lyr.sections(lyrics),
            voice=voice,
            melody=melody if not lyrics else None,
        )
        score = compose(plan)
        score["fades"] = [0.0, min(3.0, duration / 5)]
        recipe = new_recipe(request, "cover_music", seed, duration, title, style)
        recipe.update(lyrics=lyrics, key=frame.key.to_dict(), tempo=frame.tempo)
        recipe["layers"] = [{"score": score, "gain": 1.0, "window": None}]
        return finish_track(recipe, [], title, style, seed)

    return _output(request, title, lyrics, style, make, progress)


def _contour(audio: Audio, frame: Frame, duration: float) -> list[list[float]]:
    """The input's pitch contour moved into the lead's octave (median near MIDI 67)."""
    notes = analysis.pitch_contour(audio.samples, audio.sample_rate, _beat(frame), 0.0, duration)
    if not notes:
        return []
    median = float(np.median([n[0] for n in notes]))
    shift = 12.0 * round((67.0 - median) / 12.0)
    return [[n[0] + shift, n[1], n[2], n[3]] for n in notes]


def _beat(frame: Frame) -> analysis.Beat:
    return analysis.Beat(frame.tempo, frame.beat0)


def mashup_music(request: EngineRequest, progress: ProgressFn) -> MusicOutput:
    """The clips in turn, beat-aligned at one-beat crossfades, with new drums under each."""
    clips = [as_track_audio(c, request.sample_rate) for c in request.clips if len(c.samples)]
    if len(clips) < 2:
        raise EngineError("mashup_music needs at least two clips", fail_code=400)
    rate = request.sample_rate
    style = str(request.params.get("style") or "")
    beats = [analysis.estimate_beat(c.samples, rate) for c in clips]
    keys = [analysis.estimate_key(c.samples, rate) for c in clips]
    duration = request.duration_s or min(120.0, sum(c.seconds for c in clips) / 2)
    title = str(request.params.get("title") or "Mashup")
    target = float(np.mean([analysis.loudness(c.samples, rate, 0.0, c.seconds) for c in clips]))
    profile = profile_for(style or "pop")
    if profile.drums == "none":
        profile = replace(profile, drums="pop")

    def make(seed: int) -> Track:
        recipe = new_recipe(request, "mashup_music", seed, duration, title, style)
        recipe.update(key=keys[0].to_dict(), tempo=beats[0].tempo)
        cuts = _mashup_cuts(duration, beats[0], len(clips))
        grid0 = beats[0].beat0
        for i, (clip, beat, key) in enumerate(zip(clips, beats, keys, strict=True)):
            lo, hi = cuts[i], cuts[i + 1]
            period = 60.0 / beat.tempo
            fade = 60.0 / beats[0].tempo / 2
            # Shift the clip so one of its beats lands on the cut (a beat of the output grid).
            source_time = beat.beat0 + period * math.ceil((fade - beat.beat0) / period)
            shift = round((lo - source_time) * rate) if i else 0
            level = analysis.loudness(clip.samples, rate, 0.0, clip.seconds)
            gain = round(target / level, 9) if level > 0 else 1.0
            window = [
                None if i == 0 else lo - fade,
                None if i == 0 else lo + fade,
                None if i == len(clips) - 1 else hi - fade,
                None if i == len(clips) - 1 else hi + fade,
            ]
            recipe["sources"].append(
                {
                    "index": i,
                    "shift": shift,
                    "gain": gain,
                    "window": window,
                    "recipe": None,
                    "align": {},
                }
            )
            plan = Plan(
                key=key,
                tempo=beat.tempo,
                profile=profile,
                seed=seed + 101 * i,
                end_s=hi,
                start_s=lo,
                beat0=(beat.beat0 + shift / rate) if i else grid0,
                parts=frozenset({"drums"}),
                intro_bars=0,
                outro=False,
            )
            score = compose(plan)
            drum_gain = _matched_gain(score, rate, lo, hi, 0.5 * target)
            recipe["layers"].append({"score": score, "gain": drum_gain, "window": window})
        return finish_track(recipe, clips, title, style, seed)

    return _output(request, title, "", style, make, progress)


def _mashup_cuts(duration: float, beat: analysis.Beat, count: int) -> list[float]:
    """Segment boundaries: equal shares of the length, each moved to the nearest beat."""
    period = 60.0 / beat.tempo
    cuts = [0.0]
    for k in range(1, count):
        t = duration * k / count
        cuts.append(round(beat.beat0 + period * round((t - beat.beat0) / period), 6))
    cuts.append(duration)
    return cuts
