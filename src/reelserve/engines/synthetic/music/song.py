"""text_to_music: songs and Suno's "sounds", as sheets up front and tracks rendered lazily.

Procedural, not AI. The key, tempo and profile come from the style words and
the seed (`theory`, `style`); they, the title and the lyrics are shared by
the request's `count` tracks, which differ in their arrangement and melody
(track k is composed with seed + k). Non-custom prompts get template lyrics
(`lyrics.write_lyrics`, 8 lines: they fit the 60 s of the length Decision).
Each track is exactly round(duration_s * sample_rate) stereo samples, the
plain sum of its parts (`render.render_parts(track.recipe)`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
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
    Word,
)
from reelserve.engines.synthetic.dsp import seeded_rng
from reelserve.engines.synthetic.music import lyrics as lyr
from reelserve.engines.synthetic.music.compose import Plan, compose
from reelserve.engines.synthetic.music.cover_art import cover
from reelserve.engines.synthetic.music.recipe import (
    new_recipe,
    persona_voice,
    track_seconds,
)
from reelserve.engines.synthetic.music.render import mix_of, scaled_parts, unscaled_parts
from reelserve.engines.synthetic.music.style import Profile, profile_for
from reelserve.engines.synthetic.music.theory import (
    Key,
    choose_key,
    choose_tempo,
    parse_sound_key,
)
from reelserve.engines.synthetic.music.voice import voice_settings

HEADROOM_PEAK = 0.89
NON_CUSTOM_LINES = 8
TRACK_SEED_STEP = 1


@dataclass(frozen=True)
class Song:
    """What the tracks of one request share."""

    title: str
    lyrics: str
    tags: str
    style: str
    key: Key
    tempo: float
    profile: Profile
    voice: dict[str, Any] | None
    duration: float


def text_to_music(request: EngineRequest, progress: ProgressFn) -> MusicOutput:
    """`count` tracks of `duration_s` each (see `MUSIC_OPERATIONS`); sounds when params.sound."""
    _check(request)
    if isinstance(request.params.get("sound"), Mapping):
        song = _sound(request)
        loop = bool(request.params["sound"].get("loop"))
    else:
        song, loop = plan_song(request), False
    sheets = [Sheet(song.title, song.lyrics, song.tags) for _ in range(request.count)]
    return MusicOutput(sheets=sheets, tracks=_tracks(request, song, loop, progress))


def _check(request: EngineRequest) -> None:
    if request.sample_rate <= 0:
        raise EngineError(f"invalid sample rate {request.sample_rate}", fail_code=400)
    if request.count < 1:
        raise EngineError(f"count must be at least 1, got {request.count}", fail_code=400)
    if request.duration_s < 0:
        raise EngineError(f"invalid duration {request.duration_s}", fail_code=400)


def plan_song(request: EngineRequest, style_key: str = "style") -> Song:
    """Title, lyrics, key, tempo, profile and voice for a text_to_music request."""
    params = request.params
    instrumental = bool(params.get("instrumental"))
    custom = bool(params.get("custom"))
    style = str(params.get(style_key) or params.get("style") or "")
    if not custom and not style:
        style = request.prompt  # a non-custom idea carries its style words
    title = str(params.get("title") or "").strip()
    if instrumental:
        lyrics = ""
    elif custom:
        lyrics = request.prompt
    else:
        written_title, lyrics = lyr.write_lyrics(request.prompt, request.seed, 0, NON_CUSTOM_LINES)
        title = title or written_title
    if not title:
        title = _title_from(request.prompt or style)
    if custom and not instrumental and not lyr.lyric_lines(lyrics):
        raise EngineError("custom mode with vocals needs lyrics in the prompt", fail_code=400)
    profile = profile_for(style, str(params.get("negative_tags") or ""))
    rng = seeded_rng("song", style, request.seed)
    key = choose_key(style, profile.minor_bias, rng)
    tempo = choose_tempo(style, profile.tempo[0], profile.tempo[1], rng)
    duration = request.duration_s or track_seconds(lyrics, instrumental or not custom)
    voice = None
    if lyr.lyric_lines(lyrics):
        voice = voice_settings(
            str(params.get("vocal_gender") or ""), request.seed, persona_voice(params)
        )
    tags = style if style and custom else f"{profile.name}, {profile.mood}"
    return Song(title, lyrics, tags, style, key, tempo, profile, voice, duration)


def _title_from(text: str) -> str:
    words = lyr.content_words(text)[:3]
    return " ".join(w.capitalize() for w in words) or "Untitled"


def _sound(request: EngineRequest) -> Song:
    sound: Mapping[str, Any] = request.params["sound"]
    style = str(request.params.get("style") or request.prompt or "")
    profile = profile_for(style)
    rng = seeded_rng("sound", style, request.seed)
    key = parse_sound_key(str(sound.get("key") or "")) or choose_key(style, 0.5, rng)
    raw_tempo = sound.get("tempo")
    tempo = float(raw_tempo) if raw_tempo else choose_tempo(style, *profile.tempo, rng)
    if not 30.0 <= tempo <= 300.0:
        raise EngineError(f"tempo must be in 30..300 bpm, got {tempo}", fail_code=400)
    duration = request.duration_s or 8 * 240.0 / tempo
    title = str(request.params.get("title") or "") or _title_from(request.prompt)
    return Song(title, "", style or profile.name, style, key, tempo, profile, None, duration)


def _tracks(
    request: EngineRequest, song: Song, loop: bool, progress: ProgressFn
) -> Iterator[Track]:
    for k in range(request.count):
        seed = request.seed + TRACK_SEED_STEP * k
        plan = Plan(
            key=song.key,
            tempo=song.tempo,
            profile=song.profile,
            seed=seed,
            end_s=song.duration,
            lyric_sections=lyr.sections(song.lyrics),
            voice=song.voice,
            loop=loop,
            intro_bars=0 if loop else 2,
            outro=not loop,
        )
        score = compose(plan)
        score["fades"] = [0.0, 0.0] if loop else [0.0, min(3.0, song.duration / 5)]
        recipe = new_recipe(request, "text_to_music", seed, song.duration, song.title, song.tags)
        recipe.update(lyrics=song.lyrics, key=song.key.to_dict(), tempo=song.tempo, loop=loop)
        recipe["layers"] = [{"score": score, "gain": 1.0, "window": None}]
        yield finish_track(recipe, [], song.title, song.style, seed)
        progress((k + 1) / request.count)


def finish_track(
    recipe: dict[str, Any], sources: list[Audio], title: str, style: str, seed: int
) -> Track:
    """Render `recipe` (setting its headroom when it has none), its words and cover: a Track."""
    raw = unscaled_parts(recipe, sources)
    if "headroom" not in recipe:
        total = sum(raw.values())
        peak = float(np.abs(total).max()) if isinstance(total, np.ndarray) else 0.0
        recipe["headroom"] = round(HEADROOM_PEAK / peak, 9) if peak > 0 else 1.0
    parts = scaled_parts(raw, float(recipe["headroom"]))
    rate = int(recipe["sample_rate"])
    audio = Audio(mix_of(parts), rate)
    words = [
        Word(str(text), float(start), float(end))
        for layer in recipe.get("layers", [])
        for text, start, end in layer["score"].get("words", [])
    ]
    words.sort(key=lambda w: w.start)
    return Track(audio=audio, words=words, cover=cover(title, style, seed), recipe=recipe)
