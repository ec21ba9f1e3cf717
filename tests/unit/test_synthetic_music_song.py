"""The synthetic music engine's songs: determinism, lengths, lyrics, voice, parts, style."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from reelserve.engines.base import Capability, EngineRequest, MusicOutput, Track
from reelserve.engines.synthetic.engine import SyntheticEngine
from reelserve.engines.synthetic.music import (
    boost_style,
    lyric_lines,
    mix_of,
    recipe_notes,
    render_parts,
    track_seconds,
)
from reelserve.engines.synthetic.music.theory import parse_key

RATE = 22050
LYRICS = (
    "[Verse]\nWaggin' my tail in the morning light\nChasing the birds till they fly away\n"
    "Running in circles all through the night\n\n[Chorus]\nOh puppy love you are my delight\n"
    "Every day is a wonderful day\n"
)


def song(prompt: str = LYRICS, seed: int = 3, count: int = 2, **params: Any) -> MusicOutput:
    params = {"custom": True, "style": "happy pop", "title": "Pup", **params}
    duration = float(params.pop("duration", 0.0))
    if not duration:
        plain = bool(params.get("instrumental")) or not params.get("custom")
        duration = track_seconds(prompt, plain)
    request = EngineRequest(
        Capability.TEXT_TO_MUSIC,
        prompt,
        seed=seed,
        count=count,
        duration_s=duration,
        sample_rate=RATE,
        params=params,
    )
    out = SyntheticEngine().run(request, progress=lambda f: None)
    assert isinstance(out, MusicOutput)
    return out


def tracks(out: MusicOutput) -> list[Track]:
    return list(out.tracks)


@pytest.fixture(scope="module")
def vocal() -> tuple[MusicOutput, list[Track]]:
    out = song()
    return out, tracks(out)


@pytest.fixture(scope="module")
def instrumental() -> Track:
    return tracks(song("", count=1, instrumental=True, style="ballad piano"))[0]


def rms(x: np.ndarray[Any, Any]) -> float:
    return float(np.sqrt(np.mean(np.asarray(x, np.float64) ** 2)))


def test_lyric_lines_skip_tags_and_blanks() -> None:
    assert lyric_lines("[Verse]\n a b \n\n[Chorus]\nc\n  [Bridge]  \n") == ["a b", "c"]
    assert track_seconds(LYRICS, plain=False) == 30 + 4 * 5
    assert track_seconds("x\n" * 80, plain=False) == 240
    assert track_seconds(LYRICS, plain=True) == 60


def test_tracks_have_the_exact_length_and_shape(vocal: tuple[MusicOutput, list[Track]]) -> None:
    _, (first, second) = vocal
    for track in (first, second):
        assert track.audio.samples.shape == (round(50.0 * RATE), 2)
        assert track.audio.samples.dtype == np.float32
        assert track.audio.sample_rate == RATE
    odd = tracks(song(count=1, duration=31.337))[0]
    assert len(odd.audio.samples) == round(31.337 * RATE)


def test_the_same_request_renders_the_same_tracks(vocal: tuple[MusicOutput, list[Track]]) -> None:
    _, (first, _) = vocal
    again = tracks(song(count=1))[0]
    assert np.array_equal(first.audio.samples, again.audio.samples)
    assert first.recipe == again.recipe
    assert first.words == again.words


def test_two_tracks_differ_but_share_key_tempo_and_lyrics(
    vocal: tuple[MusicOutput, list[Track]],
) -> None:
    out, (first, second) = vocal
    assert out.sheets[0] == out.sheets[1]
    assert (first.recipe["key"], first.recipe["tempo"]) == (
        second.recipe["key"],
        second.recipe["tempo"],
    )
    assert first.recipe["lyrics"] == second.recipe["lyrics"] == LYRICS
    difference = rms(first.audio.samples - second.audio.samples)
    assert difference > 0.5 * rms(first.audio.samples)
    assert recipe_notes(first.recipe)["vocals"] != recipe_notes(second.recipe)["vocals"]


def test_custom_sheets_carry_the_prompt_as_lyrics(vocal: tuple[MusicOutput, list[Track]]) -> None:
    out, _ = vocal
    assert [s.lyrics for s in out.sheets] == [LYRICS, LYRICS]
    assert out.sheets[0].title == "Pup"
    assert out.sheets[0].tags == "happy pop"


def test_parts_sum_to_the_mix_and_survive_json(vocal: tuple[MusicOutput, list[Track]]) -> None:
    _, (first, _) = vocal
    recipe = json.loads(json.dumps(first.recipe))
    parts = render_parts(recipe)
    assert {"vocals", "backing_vocals", "drums", "bass", "keyboard"} <= set(parts)
    assert all(
        p.shape == first.audio.samples.shape and p.dtype == np.float32 for p in parts.values()
    )
    assert np.array_equal(mix_of(parts), first.audio.samples)
    total = np.sum([p.astype(np.float64) for p in parts.values()], axis=0)
    assert np.abs(total - first.audio.samples).max() < 1e-5
    assert 0.85 < float(np.abs(first.audio.samples).max()) <= 0.9


def test_an_instrumental_has_a_silent_voice_and_a_song_does_not(
    vocal: tuple[MusicOutput, list[Track]], instrumental: Track
) -> None:
    _, (first, _) = vocal
    sung = render_parts(first.recipe)
    assert rms(sung["vocals"]) > 0.02
    plain = render_parts(instrumental.recipe)
    assert rms(plain.get("vocals", np.zeros(1))) == 0.0
    assert instrumental.words == []
    assert rms(instrumental.audio.samples) > 0.05


def _phrases(vocals: np.ndarray[Any, Any], rate: int) -> list[tuple[float, float]]:
    hop = rate // 50
    mono = np.abs(vocals).mean(axis=1)
    frames = mono[: len(mono) // hop * hop].reshape(-1, hop)
    level = np.sqrt((frames**2).mean(axis=1))
    loud = level > 0.12 * np.percentile(level[level > 0], 95)
    runs: list[tuple[float, float]] = []
    for i in np.flatnonzero(loud):
        t = i * hop / rate
        if runs and t - runs[-1][1] < 0.2:
            runs[-1] = (runs[-1][0], t)
        else:
            runs.append((t, t))
    return runs


def test_the_voice_sings_one_phrase_per_lyric_line(vocal: tuple[MusicOutput, list[Track]]) -> None:
    _, (first, second) = vocal
    for track in (first, second):
        runs = _phrases(render_parts(track.recipe)["vocals"], RATE)
        assert len(runs) == len(lyric_lines(LYRICS))
        lines = [w for w in track.words if w.text.split("\n")[-1] in {"Waggin'", "Chasing"}]
        assert lines[0].start == pytest.approx(runs[0][0], abs=0.1)


def test_words_are_inside_the_track_in_order_with_section_tags(
    vocal: tuple[MusicOutput, list[Track]],
) -> None:
    _, (first, _) = vocal
    words = first.words
    sung = " ".join(lyric_lines(LYRICS)).split()
    assert [w.text.split("\n")[-1] for w in words] == sung
    assert words[0].text == "[Verse]\nWaggin'"
    assert any(w.text == "[Chorus]\nOh" for w in words)
    assert all(0 <= w.start < w.end <= 50.0 for w in words)
    assert all(a.end <= b.start for a, b in itertools.pairwise(words))


def test_notes_of_every_part_are_in_the_recipe(vocal: tuple[MusicOutput, list[Track]]) -> None:
    _, (first, _) = vocal
    notes = recipe_notes(first.recipe)
    assert {"vocals", "bass", "drums"} <= set(notes)
    for part in ("vocals", "bass", "drums"):
        assert all(len(n) == 4 and 0 <= n[1] < n[2] <= 50.0 and 0 < n[3] <= 1 for n in notes[part])
    assert {int(n[0]) for n in notes["drums"]} >= {36, 38, 42}
    assert all(20 <= n[0] <= 60 for n in notes["bass"])


def test_cover_art_is_square_rgb(vocal: tuple[MusicOutput, list[Track]]) -> None:
    _, (first, second) = vocal
    assert first.cover is not None and first.cover.shape == (512, 512, 3)
    assert first.cover.dtype == np.uint8
    assert second.cover is not None and not np.array_equal(first.cover, second.cover)


def _frame(style: str, seed: int = 1) -> dict[str, Any]:
    track = tracks(song("", seed=seed, count=1, instrumental=True, style=style, duration=12.0))[0]
    score: dict[str, Any] = track.recipe["layers"][0]["score"]
    return score


def test_key_and_tempo_follow_the_style_words() -> None:
    for seed in (1, 2, 3):
        sad = _frame("sad ballad", seed)
        assert sad["key"]["mode"] == "minor" and sad["tempo"] <= 80
        assert _frame("edm festival", seed)["tempo"] >= 118
        assert _frame("hard rock", seed)["tempo"] > sad["tempo"]
    jazz = _frame("smooth jazz")
    assert all("7" in chord[3] for chord in jazz["chords"])
    explicit = _frame("chill pop in A minor, 97 bpm")
    assert explicit["key"]["name"] == "A minor" and explicit["tempo"] == 97
    assert parse_key("a song about F# major") is not None and parse_key("a cat") is None


def test_non_custom_prompts_get_lyrics_that_fit_sixty_seconds() -> None:
    out = song("a dog chasing the rain in the park", count=1, custom=False, style="")
    (track,) = tracks(out)
    sheet = out.sheets[0]
    assert sheet.lyrics and sheet.title
    assert len(track.audio.samples) == 60 * RATE
    assert [w.text.split("\n")[-1] for w in track.words] == " ".join(
        lyric_lines(sheet.lyrics)
    ).split()


def test_vocal_gender_and_persona_set_the_voice(vocal: tuple[MusicOutput, list[Track]]) -> None:
    _, (first, _) = vocal
    male = tracks(song(count=1, seed=9, vocal_gender="m", duration=20.0))[0]
    female = tracks(song(count=1, seed=9, vocal_gender="f", duration=20.0))[0]
    m_voice = male.recipe["layers"][0]["score"]["voice"]
    f_voice = female.recipe["layers"][0]["score"]["voice"]
    assert m_voice["gender"] == "m" and f_voice["gender"] == "f"
    m_notes = recipe_notes(male.recipe)["vocals"]
    f_notes = recipe_notes(female.recipe)["vocals"]
    assert np.mean([n[0] for n in m_notes]) < np.mean([n[0] for n in f_notes])
    persona = {"name": "Pup", "description": "", "source_track": {"recipe": first.recipe}}
    reused = tracks(song(count=1, seed=11, persona=persona, duration=20.0))[0]
    assert (
        reused.recipe["layers"][0]["score"]["voice"] == first.recipe["layers"][0]["score"]["voice"]
    )


def test_sounds_loop_in_their_key_and_tempo() -> None:
    sound = {"loop": True, "tempo": 120, "key": "Cm"}
    request = EngineRequest(
        Capability.TEXT_TO_MUSIC,
        "funky drum loop",
        seed=1,
        duration_s=8.0,
        sample_rate=RATE,
        params={"sound": sound},
    )
    out = SyntheticEngine().run(request, progress=lambda f: None)
    assert isinstance(out, MusicOutput)
    (track,) = list(out.tracks)
    samples = track.audio.samples
    assert len(samples) == 8 * RATE
    assert track.recipe["tempo"] == 120 and track.recipe["key"]["name"] == "C minor"
    # The tails past the end are folded into the start: the loop's start carries them.
    assert rms(samples[:50]) > 0.0
    assert np.abs(samples[0] - samples[-1]).max() <= np.abs(np.diff(samples, axis=0)).max()
    looped = SyntheticEngine().run(
        replace(request, params={"sound": {**sound, "loop": False}}), lambda f: None
    )
    assert isinstance(looped, MusicOutput)
    plain = next(iter(looped.tracks))
    assert rms(plain.audio.samples[-50:]) < rms(samples[-50:])


def test_boost_style_is_a_deterministic_honest_expansion() -> None:
    boosted = boost_style("Pop, Mysterious")
    assert boosted == boost_style("Pop, Mysterious")
    assert boosted.startswith("Pop, Mysterious, ")
    assert "bpm" in boosted and "drums" in boosted
    assert "120 bpm" in boost_style("techno 120 bpm") and "edm" in boost_style("techno")
    assert "A minor" in boost_style("sad rock in A minor")
    assert "AI" not in boost_style("anything")
