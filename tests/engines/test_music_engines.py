"""The `demucs` and `basic-pitch` engines: unit checks and real Suno tasks through a server.

basic-pitch runs its REAL model (the ONNX file inside the basic-pitch wheel)
and must recover the notes of synthetic melodies. demucs runs a tiny
random-weight HTDemucs of the real class, saved as demucs 4.1 publishes
models (tests/tiny_music.py), so its stems are checked for count, names,
length and rate, not for quality. The packages are installed by
./scripts/test (the `music` extra and basic-pitch with --no-deps): a missing
one fails these tests, it does not skip them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from reelserve.engines.base import Audio, Capability, EngineRequest, TextOutput
from reelserve.engines.diffusers.weights import WeightsError
from reelserve.engines.music.basic_pitch import BasicPitchEngine
from reelserve.engines.music.config import BasicPitchConfig, DemucsConfig
from reelserve.engines.music.demucs import DemucsEngine
from reelserve.engines.music.factory import music_factories
from reelserve.engines.synthetic.music import recipe_notes
from reelserve.families.suno.submit import sound_seconds
from reelserve.settings import Settings
from tests.suno import Song, audio_at, create, custom_song, song, wait, wait_flag, wait_music
from tests.support import RunningServer, run_server_with
from tests.tiny_music import SIX, build_demucs

RATE = 44100
MELODY = [(69, 0.0, 0.5), (72, 0.5, 0.5), (76, 1.0, 0.5), (74, 1.5, 1.0), (60, 2.5, 0.5)]
LOOP_TEMPO = 120  # a `sounds` loop of 16 beats: 8 s
TWO_LINES = "[Verse]\nNeon rivers running through the night\nEvery window holds a different light"


def melody_audio(notes: list[tuple[int, float, float]], seconds: float) -> Audio:
    x = np.zeros(int(seconds * RATE))
    for pitch, start, length in notes:
        t = np.arange(int(length * RATE)) / RATE
        envelope = np.minimum(1.0, np.minimum(t / 0.01, (length - t) / 0.01))
        tone = 0.5 * np.sin(2 * np.pi * 440 * 2 ** ((pitch - 69) / 12) * t) * envelope
        i = int(start * RATE)
        x[i : i + len(tone)] += tone
    return Audio(np.stack([x, x], axis=1).astype(np.float32), RATE)


@pytest.fixture(scope="module")
def demucs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demucs(tmp_path_factory.mktemp("demucs") / "htdemucs")


# -- basic-pitch, the real model ------------------------------------------------------------


def test_basic_pitch_recovers_every_note_of_a_melody_and_a_chord() -> None:
    engine = BasicPitchEngine(BasicPitchConfig())
    engine.setup()
    chord = [(60, 3.0, 1.0), (64, 3.0, 1.0), (67, 3.0, 1.0)]
    request = EngineRequest(
        operation=Capability.AUDIO_TO_MIDI,
        prompt="",
        clips=[melody_audio(MELODY + chord, 4.5)],
        params={"clip_names": ["vocals"]},
    )
    fractions: list[float] = []
    output = engine.run(request, fractions.append)
    assert isinstance(output, TextOutput)
    (instrument,) = output.data["instruments"]
    assert instrument["name"] == "Voice Oohs"
    heard = {(n["pitch"], round(n["start"] * 10)) for n in instrument["notes"]}
    for pitch, start, _ in MELODY + chord:
        near = {(pitch, round(start * 10) + d) for d in (-1, 0, 1)}
        assert heard & near, (pitch, start, sorted(heard))
    assert len(instrument["notes"]) == len(MELODY) + len(chord), instrument["notes"]
    for note in instrument["notes"]:
        assert 0 < note["velocity"] <= 1 and note["end"] > note["start"]
    assert fractions[-1] == 1.0 and engine.loads == 1


def test_basic_pitch_preflight_names_a_missing_model(tmp_path: Path) -> None:
    settings = Settings(basic_pitch_model=tmp_path / "nmp.onnx")
    with pytest.raises(WeightsError, match=r"REELSERVE_BASIC_PITCH_MODEL=.*nmp.onnx is not a file"):
        music_factories(settings)["basic-pitch"].preflight()  # type: ignore[attr-defined]


# -- demucs, tiny random weights ------------------------------------------------------------


def test_demucs_preflight_names_what_is_missing(tmp_path: Path, demucs_dir: Path) -> None:
    def preflight(**values: Any) -> None:
        music_factories(Settings(**values))["demucs"].preflight()  # type: ignore[attr-defined]

    with pytest.raises(WeightsError, match="needs REELSERVE_DEMUCS_MODEL_DIR"):
        preflight()
    with pytest.raises(WeightsError, match="is not a directory"):
        preflight(demucs_model_dir=tmp_path / "absent")
    with pytest.raises(WeightsError, match=r"has no htdemucs_6s.yaml .*htdemucs.yaml"):
        preflight(demucs_model_dir=demucs_dir, demucs_model="htdemucs_6s")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "htdemucs.yaml").write_text("models: ['955717e8']\n")
    with pytest.raises(WeightsError, match=r"955717e8.safetensors is missing"):
        preflight(demucs_model_dir=broken)
    preflight(demucs_model_dir=demucs_dir)


def test_demucs_separates_two_and_all_stems_in_one_resident_child(
    tmp_path: Path, demucs_dir: Path
) -> None:
    six = build_demucs(tmp_path / "six", name="htdemucs_6s", sources=SIX)
    engine = DemucsEngine(DemucsConfig(model_dir=six, model="htdemucs_6s", device="cpu"))
    try:
        engine.setup()
        info = engine.stats.info
        assert info["pipeline"] == "HTDemucs" and info["device"] == "cpu"
        assert info["dtype"] == "float32" and info["autocast"] is None
        assert info["sources"] == list(SIX)
        track = Audio(np.random.default_rng(0).standard_normal((3 * RATE, 2)).astype("f4"), RATE)
        for mode, names in (("separate_vocal", ["vocals", "instrumental"]), ("split_stem", SIX)):
            fractions: list[float] = []
            request = EngineRequest(
                operation=Capability.SEPARATE_STEMS, prompt="", audio=track, params={"mode": mode}
            )
            stems = engine.run(request, fractions.append).stems
            assert list(stems) == list(names)
            for audio in stems.values():
                assert audio.samples.shape == (3 * RATE, 2) and audio.sample_rate == RATE
                assert np.isfinite(audio.samples).all()
            assert fractions[-1] == 1.0 and 0 < fractions[0] < 1
        assert engine.stats.starts == 1 and engine.stats.info["loads"] == 1
    finally:
        engine.close()


def test_demucs_dtype_setting_reaches_the_child(demucs_dir: Path) -> None:
    engine = DemucsEngine(DemucsConfig(model_dir=demucs_dir, device="cpu", dtype="bfloat16"))
    try:
        engine.setup()
        assert engine.stats.info["autocast"] == "bfloat16"
        track = Audio(np.zeros((RATE, 2), np.float32) + 0.01, RATE)
        request = EngineRequest(
            operation=Capability.SEPARATE_STEMS, prompt="", audio=track, params={"mode": "x"}
        )
        with pytest.raises(Exception, match="unknown separation mode"):
            engine.run(request, lambda _: None)
        ok = EngineRequest(
            operation=Capability.SEPARATE_STEMS, prompt="", audio=track, params={}
        )  # no mode: separate_vocal
        stems = engine.run(ok, lambda _: None).stems
        assert list(stems) == ["vocals", "instrumental"]
        assert all(np.isfinite(a.samples).all() and a.samples.dtype == np.float32
                   for a in stems.values())  # fmt: skip
    finally:
        engine.close()


# -- real server tasks ------------------------------------------------------------------------

STEMS = "/api/v1/vocal-removal/generate"
STEMS_RECORD = "/api/v1/vocal-removal/record-info"


@pytest.fixture(scope="module")
def demucs_server(
    demucs_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    with run_server_with(
        tmp_path_factory.mktemp("music-demucs"),
        {"alice": None},
        worker_poll_s=0.1,
        routes="separate_stems=demucs;audio_to_midi=basic-pitch;*=synthetic",
        demucs_model_dir=demucs_dir,
        demucs_device="cpu",
        demucs_shifts=0,
    ) as running:
        yield running


def _stems(server: RunningServer, task_id: str, audio_id: str, mode: str) -> dict[str, Any]:
    client = server.client("alice")
    body = {"taskId": task_id, "audioId": audio_id, "type": mode,
            "callBackUrl": "https://example.com/cb"}  # fmt: skip
    record = wait_flag(client, STEMS_RECORD, create(client, STEMS, body))
    assert record["successFlag"] == "SUCCESS", record
    return record


def _short_sung_song(client: httpx.Client) -> Song:
    """A sung song of a few seconds: vocals added over a `sounds` loop at LOOP_TEMPO (a
    generated song lasts 34 s or more, and separating and encoding stems take time in
    proportion to the length)."""
    loop = {"prompt": "rain on a tin roof", "model": "V5", "soundLoop": True,
            "soundTempo": LOOP_TEMPO, "soundKey": "Am"}  # fmt: skip
    record = wait_music(client, create(client, "/api/v1/generate/sounds", loop))
    assert record["status"] == "SUCCESS", record
    vocals = {"uploadUrl": record["response"]["sunoData"][0]["audioUrl"], "prompt": TWO_LINES,
              "title": "Neon Rivers", "negativeTags": "metal", "style": "synth pop",
              "model": "V4_5PLUS", "callBackUrl": "https://example.com/cb"}  # fmt: skip
    made = song(client, vocals, "/api/v1/generate/add-vocals")
    assert abs(float(made.tracks[0]["duration"]) - sound_seconds(LOOP_TEMPO)) < 0.1
    return made


def test_vocal_removal_on_demucs_gives_two_or_four_stems_of_the_songs_length(
    demucs_server: RunningServer,
) -> None:
    client = demucs_server.client("alice")
    made = _short_sung_song(client)
    seconds = float(made.tracks[0]["duration"])
    two = _stems(demucs_server, made.task_id, made.audio_id, "separate_vocal")["response"]
    four = _stems(demucs_server, made.task_id, made.audio_id, "split_stem")["response"]
    assert {d["stem_type_group_name"] for d in two["originData"]} == {"Vocals", "Instrumental"}
    assert two["drumsUrl"] is None
    assert [d["stem_type_group_name"] for d in four["originData"]] == [
        "Drums", "Bass", "Other", "Vocals"
    ]  # fmt: skip
    for d in two["originData"] + four["originData"]:
        audio = audio_at(client, d["audio_url"])
        assert abs(audio.seconds - seconds) < 0.2, (audio.seconds, seconds)
        assert abs(d["duration"] - seconds) < 0.2
    engine = demucs_server.app.state.worker.registry.loaded("demucs")
    assert isinstance(engine, DemucsEngine)
    assert engine.stats.starts == 1 and engine.stats.runs == 2  # loaded once for both


def test_midi_on_basic_pitch_recovers_the_sung_melody_of_synthetic_stems(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with run_server_with(
        tmp_path_factory.mktemp("music-midi"),
        {"alice": None},
        worker_poll_s=0.1,
        routes="audio_to_midi=basic-pitch;*=synthetic",
    ) as server:
        client = server.client("alice")
        made = song(client, custom_song(TWO_LINES))
        stems = _stems(server, made.task_id, made.audio_id, "split_stem")
        origin = stems["response"]["originData"]
        vocal_id = next(d["id"] for d in origin if d["stem_type_group_name"] == "Vocals")
        body = {"taskId": stems["taskId"], "audioId": vocal_id,
                "callBackUrl": "https://example.com/cb"}  # fmt: skip
        midi_id = create(client, "/api/v1/midi/generate", body)
        record = wait(client, "/api/v1/midi/record-info", midi_id, lambda d: d["successFlag"] != 0)
        assert record["successFlag"] == 1, record
        (instrument,) = record["midiData"]["instruments"]
        assert instrument["name"] == "Voice Oohs"
        recipe = _recipe(server, made.task_id)
        sung = [(int(n[0]), float(n[1])) for n in recipe_notes(recipe).get("vocals", [])]
        heard = [(n["pitch"], n["start"]) for n in instrument["notes"]]
        found = sum(
            any(p == pitch and abs(s - start) < 0.15 for p, s in heard) for pitch, start in sung
        )
        assert sung and found >= 0.7 * len(sung), (found, len(sung))
        engine = server.app.state.worker.registry.loaded("basic-pitch")
        assert isinstance(engine, BasicPitchEngine) and engine.loads == 1


def _recipe(server: RunningServer, task_id: str) -> dict[str, Any]:
    from tests.integration.test_suno import stored_track

    return dict(stored_track(server, task_id)["recipe"])


# -- reelserve engines check ------------------------------------------------------------------


def test_engines_check_runs_demucs_and_basic_pitch_on_a_tone(
    demucs_dir: Path, tmp_path: Path
) -> None:
    import re

    from typer.testing import CliRunner

    from reelserve.cli import app

    env = {
        "REELSERVE_DATA_DIR": str(tmp_path),
        "REELSERVE_ROUTES": "separate_stems=demucs;audio_to_midi=basic-pitch",
        "REELSERVE_DEMUCS_MODEL_DIR": str(demucs_dir),
        "REELSERVE_DEMUCS_DEVICE": "cpu",
    }
    result = CliRunner().invoke(app, ["engines", "check"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert re.fullmatch(r"basic-pitch: loaded in \d+\.\d\d s", lines[0]), lines
    assert re.fullmatch(
        r"basic-pitch: audio_to_midi, 1 notes \(pitches \[69\]\) from a 1 s 440 Hz tone "
        r"in \d+\.\d\d s",
        lines[1],
    ), lines
    assert re.fullmatch(r"demucs: loaded in \d+\.\d\d s \(HTDemucs, cpu, float32\)", lines[2])
    assert re.fullmatch(
        r"demucs: separate_stems, 4 stems \(drums, bass, other, vocals\) of 1\.00 s in "
        r"\d+\.\d\d s \(pipeline \d+\.\d\d s\)",
        lines[3],
    ), lines


def test_engines_check_names_missing_demucs_weights(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from reelserve.cli import app

    env = {"REELSERVE_DATA_DIR": str(tmp_path), "REELSERVE_ROUTES": "separate_stems=demucs"}
    result = CliRunner().invoke(app, ["engines", "check"], env=env)
    assert result.exit_code == 2
    assert "needs REELSERVE_DEMUCS_MODEL_DIR" in result.output


def test_a_demucs_child_killed_mid_task_fails_that_task_and_the_next_succeeds(
    demucs_dir: Path,
) -> None:
    import os
    import signal

    from reelserve.engines.base import EngineError

    engine = DemucsEngine(DemucsConfig(model_dir=demucs_dir, device="cpu", shifts=0))
    track = Audio(np.random.default_rng(1).standard_normal((4 * RATE, 2)).astype("f4"), RATE)
    request = EngineRequest(
        operation=Capability.SEPARATE_STEMS, prompt="", audio=track, params={"mode": "split_stem"}
    )
    try:
        engine.setup()
        victim = engine.stats.pid
        assert victim is not None

        def kill(fraction: float) -> None:
            if fraction < 1 and engine.stats.pid == victim:
                os.kill(victim, signal.SIGKILL)

        with pytest.raises(EngineError, match=r"killed by SIGKILL.*the task was lost"):
            engine.run(request, kill)
        stems = engine.run(request, lambda _: None).stems
        assert len(stems) == 4 and engine.stats.starts == 2
    finally:
        engine.close()


def test_interrupting_demucs_stops_the_separation_at_its_next_segment(demucs_dir: Path) -> None:
    from reelserve.engines.isolated import EngineInterrupted

    engine = DemucsEngine(DemucsConfig(model_dir=demucs_dir, device="cpu", shifts=0))
    track = Audio(np.random.default_rng(2).standard_normal((6 * RATE, 2)).astype("f4"), RATE)
    request = EngineRequest(
        operation=Capability.SEPARATE_STEMS, prompt="", audio=track, params={"mode": "split_stem"}
    )
    try:
        engine.setup()
        seen: list[float] = []

        def stop(fraction: float) -> None:
            seen.append(fraction)
            engine.interrupt()

        with pytest.raises(EngineInterrupted):
            engine.run(request, stop)
        assert seen and seen[-1] < 1
        assert len(engine.run(request, lambda _: None).stems) == 4  # the child lives on
        assert engine.stats.starts == 1
    finally:
        engine.close()
