"""Songs from songs: stems from a recipe, extend, replace_section, add_vocals/instrumental,
cover, mashup, and write_lyrics."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from reelserve.engines.base import (
    Audio,
    Capability,
    EngineError,
    EngineRequest,
    MusicOutput,
    StemsOutput,
    TextOutput,
    Track,
)
from reelserve.engines.synthetic.engine import SyntheticEngine
from reelserve.engines.synthetic.music import lyric_lines, mix_of, render_parts
from reelserve.media.audio import decode_audio, encode_audio

RATE = 22050
LYRICS = "[Verse]\nWaggin' my tail in the morning light\nChasing the birds till they fly away\n"


def run(op: Capability, prompt: str = "", **fields: Any) -> Any:
    fields.setdefault("sample_rate", RATE)
    request = EngineRequest(op, prompt, **fields)
    return SyntheticEngine().run(request, progress=lambda f: None)


def first(out: MusicOutput) -> Track:
    assert isinstance(out, MusicOutput)
    return next(iter(out.tracks))


@pytest.fixture(scope="module")
def source() -> Track:
    params = {"custom": True, "style": "rock", "title": "Pup"}
    return first(run(Capability.TEXT_TO_MUSIC, LYRICS, seed=4, duration_s=24.0, params=params))


def track_info(track: Track) -> dict[str, Any]:
    return {
        "title": "Pup",
        "lyrics": LYRICS,
        "tags": "rock",
        "duration": track.audio.seconds,
        "words": [],
        "recipe": track.recipe,
    }


def corr(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> float:
    n = min(len(a), len(b))
    return float(np.corrcoef(a[:n].ravel(), b[:n].ravel())[0, 1])


def rms(x: np.ndarray[Any, Any]) -> float:
    return float(np.sqrt(np.mean(np.asarray(x, np.float64) ** 2)))


def test_stems_of_a_recipe_after_an_mp3_round_trip_match_the_parts(source: Track) -> None:
    decoded = decode_audio(encode_audio(source.audio, "mp3"))
    truth = render_parts(source.recipe)
    info = track_info(source)
    split = run(
        Capability.SEPARATE_STEMS,
        audio=decoded,
        params={"mode": "split_stem", "source_track": info},
    )
    assert isinstance(split, StemsOutput)
    assert set(split.stems) == {n for n, p in truth.items() if np.abs(p).max() > 0}
    for name, stem in split.stems.items():
        assert corr(stem.samples, truth[name]) >= 0.9, name
    vocal = run(
        Capability.SEPARATE_STEMS,
        audio=decoded,
        params={"mode": "separate_vocal", "source_track": info},
    )
    assert set(vocal.stems) == {"vocals", "instrumental"}
    assert corr(vocal.stems["vocals"].samples, truth["vocals"] + truth["backing_vocals"]) >= 0.9
    rebuilt = vocal.stems["vocals"].samples + vocal.stems["instrumental"].samples
    assert np.abs(rebuilt - decoded.samples).max() < 1e-5


def test_extend_keeps_the_prefix_exactly_and_continues(source: Track) -> None:
    params = {"continue_at": 15.0, "source_track": track_info(source)}
    out = run(
        Capability.EXTEND_MUSIC, audio=source.audio, seed=5, count=2, duration_s=40.0, params=params
    )
    a, b = list(out.tracks)
    cut = round(15.0 * RATE)
    for track in (a, b):
        assert len(track.audio.samples) == 40 * RATE
        assert np.array_equal(track.audio.samples[:cut], source.audio.samples[:cut])
        assert rms(track.audio.samples[cut + RATE : 35 * RATE]) > 0.3 * rms(source.audio.samples)
        assert track.recipe["tempo"] == source.recipe["tempo"]
        assert track.recipe["key"] == source.recipe["key"]
        assert all(w.start >= 15.0 for w in track.words) and track.words
        parts = render_parts(track.recipe, [source.audio])
        assert np.array_equal(mix_of(parts), track.audio.samples)
    assert rms(a.audio.samples[cut:] - b.audio.samples[cut:]) > 0.01


def test_extend_rejects_bad_inputs(source: Track) -> None:
    with pytest.raises(EngineError) as missing:
        run(Capability.EXTEND_MUSIC, duration_s=30.0, params={"continue_at": 5.0})
    assert missing.value.fail_code == 400
    with pytest.raises(EngineError) as beyond:
        run(
            Capability.EXTEND_MUSIC,
            audio=source.audio,
            duration_s=60.0,
            params={"continue_at": 50.0},
        )
    assert beyond.value.fail_code == 400


def test_replace_section_changes_only_the_span(source: Track) -> None:
    params = {
        "infill_start": 6.0,
        "infill_end": 14.0,
        "style": "rock",
        "source_track": track_info(source),
    }
    out = run(
        Capability.REPLACE_SECTION,
        "[Verse]\nBrand new words for the middle part",
        audio=source.audio,
        seed=2,
        duration_s=24.0,
        params=params,
    )
    track = first(out)
    lo, hi = round(6.0 * RATE), round(14.0 * RATE)
    assert len(track.audio.samples) == len(source.audio.samples)
    assert np.array_equal(track.audio.samples[:lo], source.audio.samples[:lo])
    assert np.array_equal(track.audio.samples[hi:], source.audio.samples[hi:])
    inside = (
        track.audio.samples[lo + RATE : hi - RATE] - source.audio.samples[lo + RATE : hi - RATE]
    )
    assert rms(inside) > 0.2 * rms(source.audio.samples)
    assert track.words and all(6.0 <= w.start < w.end <= 14.0 for w in track.words)


def test_add_vocals_keeps_the_input_and_its_stems_give_the_voice_back() -> None:
    params = {"custom": True, "instrumental": True, "style": "folk", "title": "Bed"}
    bed = first(run(Capability.TEXT_TO_MUSIC, "", seed=8, duration_s=20.0, params=params))
    lyrics = "[Verse]\nSinging softly over the strings\nEvery evening the river sings\n"
    track = first(
        run(Capability.ADD_VOCALS, lyrics, audio=bed.audio, seed=3, duration_s=20.0, params={})
    )
    parts = render_parts(track.recipe, [bed.audio])
    assert set(parts) >= {"source", "vocals"}
    assert np.abs(mix_of(parts) - track.audio.samples).max() < 1e-6
    assert corr(parts["source"], bed.audio.samples) > 0.999
    assert len(track.words) == len(" ".join(lyric_lines(lyrics)).split())
    info = {"title": "Bed", "lyrics": lyrics, "tags": "", "duration": 20.0, "recipe": track.recipe}
    stems = run(
        Capability.SEPARATE_STEMS,
        audio=track.audio,
        params={"mode": "separate_vocal", "source_track": info},
    )
    added = parts["vocals"] + parts.get("backing_vocals", 0.0)
    assert corr(stems.stems["vocals"].samples, added) > 0.99
    assert corr(stems.stems["instrumental"].samples, parts["source"]) > 0.99


def test_add_instrumental_follows_the_vocal_tempo(source: Track) -> None:
    vocal = Audio(render_parts(source.recipe)["vocals"], RATE)
    out = run(
        Capability.ADD_INSTRUMENTAL,
        audio=vocal,
        seed=1,
        duration_s=24.0,
        params={"style": "funk"},
    )
    track = first(out)
    tempo = float(source.recipe["tempo"])
    assert track.recipe["tempo"] == pytest.approx(tempo, rel=0.02)
    parts = render_parts(track.recipe, [vocal])
    assert {"drums", "bass", "source"} <= set(parts)
    assert rms(parts["vocals"]) == 0.0
    assert corr(parts["source"], vocal.samples) > 0.999
    assert len(vocal.samples) == len(track.audio.samples)


def test_cover_keeps_the_timing_in_a_new_style(source: Track) -> None:
    track = first(
        run(
            Capability.COVER_MUSIC,
            audio=source.audio,
            seed=1,
            duration_s=24.0,
            params={"style": "edm", "instrumental": True},
        )
    )
    assert len(track.audio.samples) == len(source.audio.samples)
    ratio = float(track.recipe["tempo"]) / float(source.recipe["tempo"])
    assert min(abs(ratio - r) for r in (0.5, 1.0, 2.0)) < 0.02
    assert track.recipe["layers"][0]["score"]["profile"]["name"] == "edm"
    assert not track.recipe["sources"]


def test_mashup_blends_the_clips_with_new_drums(source: Track) -> None:
    params = {"instrumental": True, "custom": True, "style": "jazz", "title": "B"}
    other = first(run(Capability.TEXT_TO_MUSIC, "", seed=2, duration_s=20.0, params=params))
    out = run(Capability.MASHUP_MUSIC, clips=[source.audio, other.audio], seed=1, duration_s=30.0)
    track = first(out)
    assert len(track.audio.samples) == 30 * RATE
    parts = render_parts(track.recipe, [source.audio, other.audio])
    assert {"source", "drums"} <= set(parts)
    assert np.abs(mix_of(parts) - track.audio.samples).max() < 1e-6
    early, late = track.audio.samples[: 10 * RATE], track.audio.samples[20 * RATE :]
    assert corr(early, parts["source"][: 10 * RATE]) > 0.5 and rms(late) > 0.05
    with pytest.raises(EngineError):
        run(Capability.MASHUP_MUSIC, clips=[source.audio], duration_s=10.0)


def test_write_lyrics_gives_distinct_rhymed_variants() -> None:
    out = run(Capability.WRITE_LYRICS, "a song about my dog in the park", seed=1, count=2)
    assert isinstance(out, TextOutput)
    variants = out.data["lyrics"]
    assert len(variants) == 2 and variants[0]["text"] != variants[1]["text"]
    text = variants[0]["text"]
    assert "[Verse]" in text and "[Chorus]" in text and variants[0]["title"]
    assert "dog" in text.lower()
    again = run(Capability.WRITE_LYRICS, "a song about my dog in the park", seed=1, count=2)
    assert again.data == out.data
