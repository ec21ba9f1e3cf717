"""The recipe: a JSON-able description of a track from which `render_parts` re-renders it exactly.

Keys (all JSON types):
- `engine` "reelserve-synthetic-music", `version` 1, `procedural` true, `op`.
- `sample_rate`, `n_samples` (= round(duration_s * sample_rate)), `duration_s`.
- `seed`, `title`, `tags`, `lyrics`, `key` {tonic, mode, name}, `tempo` (bpm).
- `headroom`: the one scale applied to every part (the track peaks at 0.89;
  1.0 for tracks that keep an input's samples).
- `mix`: {part: [gain, pan]} as rendered.
- `layers`: [{score, gain, window}], a score being `compose.compose`'s dict:
  seed, key, tempo, beat0, profile, progressions, span, sections
  [{tag, start, end}], chords [[start, end, degree, name, pitches]], notes
  {part: [[pitch, start, end, velocity]]} (GM pitches for drums), syllables
  [[start, end, pitch, vowel, onset]], backing_syllables, words
  [[text, start, end]], voice settings, fades [in, out]; `window` is
  [a0, a1, b0, b1] seconds or null (see `render._window`).
- `sources`: the inputs kept in the mix, [{index (into request.audio /
  clips), shift (samples), gain, window, recipe (the input's own recipe when
  this engine made it, else null), align {lag, gain}}].
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reelserve.engines.base import EngineRequest
from reelserve.engines.synthetic.music import lyrics as lyr
from reelserve.engines.synthetic.music.render import MIX

ENGINE_ID = "reelserve-synthetic-music"
VERSION = 1
BASE_SECONDS, PER_LINE_SECONDS, MAX_SECONDS, PLAIN_SECONDS = 30.0, 4.0, 240.0, 60.0


def track_seconds(lyrics: str, plain: bool) -> float:
    """The length Decision: 30 s + 4 s per lyric line, at most 240 s; 60 s when `plain`.

    `plain`: instrumental or a non-custom prompt.
    """
    if plain:
        return PLAIN_SECONDS
    return min(MAX_SECONDS, BASE_SECONDS + PER_LINE_SECONDS * len(lyr.lyric_lines(lyrics)))


def new_recipe(
    request: EngineRequest, op: str, seed: int, duration: float, title: str, tags: str
) -> dict[str, Any]:
    rate = request.sample_rate
    return {
        "engine": ENGINE_ID,
        "version": VERSION,
        "procedural": True,
        "op": op,
        "sample_rate": rate,
        "n_samples": round(duration * rate),
        "duration_s": duration,
        "seed": seed,
        "title": title,
        "tags": tags,
        "lyrics": "",
        "mix": {name: list(values) for name, values in MIX.items()},
        "layers": [],
        "sources": [],
    }


def is_ours(recipe: object) -> bool:
    """Whether `recipe` is one this engine wrote (and can re-render)."""
    return (
        isinstance(recipe, Mapping)
        and recipe.get("engine") == ENGINE_ID
        and int(recipe.get("version", 0)) == VERSION
    )


def source_recipe(params: Mapping[str, Any]) -> dict[str, Any] | None:
    """`params.source_track.recipe` when this engine made it."""
    track = params.get("source_track")
    if isinstance(track, Mapping):
        recipe = track.get("recipe")
        if is_ours(recipe):
            return dict(recipe)  # type: ignore[arg-type]
    return None


def first_score(recipe: Mapping[str, Any]) -> dict[str, Any] | None:
    """The first layer's score (the musical frame: key, tempo, beat grid, voice) of a recipe."""
    for layer in recipe.get("layers", []):
        return dict(layer["score"])
    for entry in recipe.get("sources", []):
        nested = entry.get("recipe")
        if is_ours(nested):
            return first_score(nested)
    return None


def persona_voice(params: Mapping[str, Any]) -> dict[str, Any] | None:
    """The voice settings of `params.persona.source_track`'s recipe, when it has a voice."""
    persona = params.get("persona")
    if not isinstance(persona, Mapping):
        return None
    track = persona.get("source_track")
    recipe = track.get("recipe") if isinstance(track, Mapping) else None
    if not is_ours(recipe):
        return None
    assert isinstance(recipe, Mapping)
    for layer in recipe.get("layers", []):
        voice = layer["score"].get("voice")
        if voice:
            return dict(voice)
    return None


def recipe_notes(recipe: Mapping[str, Any]) -> dict[str, list[list[float]]]:
    """Every layer's notes by part, sorted by start ([pitch, start, end, velocity], s)."""
    out: dict[str, list[list[float]]] = {}
    for layer in recipe.get("layers", []):
        for part, notes in layer["score"].get("notes", {}).items():
            out.setdefault(part, []).extend(list(n) for n in notes)
    return {part: sorted(notes, key=lambda n: (n[1], n[0])) for part, notes in out.items()}
