"""The `ace-step` engine: a tiny random-weight AceStepPipeline of the real classes, saved and
reloaded `local_files_only`, run through real Suno tasks and directly.

Random weights make noise-like audio whatever they are asked, so these tests
check what the engine decides (the call, the lengths, what is kept from a
source, the sheet) and the machinery (one load across tasks, a killed child,
an interrupt, the GPU settings), not how the songs sound.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from reelserve.engines.base import Audio, Capability, EngineError, EngineRequest, MusicOutput
from reelserve.engines.diffusers.weights import WeightsError
from reelserve.engines.isolated import EngineInterrupted
from reelserve.engines.music.ace_step import AceStepEngine, AceStepRunner
from reelserve.engines.music.ace_step_plan import _keyscale, plan, splice
from reelserve.engines.music.config import ace_step_config
from reelserve.engines.music.factory import music_factories
from reelserve.families.suno.rules import track_seconds
from reelserve.media.audio import encode_audio
from reelserve.settings import Settings
from tests.suno import audio_at, custom_song, song
from tests.support import RunningServer, StaticHttpServer, run_server_with
from tests.tiny_music import build_ace_step

RATE = 44100
ONE_LINE = "[Verse]\nNeon rivers running through the night"
ROUTES = "text_to_music=ace-step;extend_music=ace-step;cover_music=ace-step;*=synthetic"


def sine(seconds: float, hz: float = 220.0, rate: int = RATE) -> Audio:
    t = np.arange(round(seconds * rate)) / rate
    x = (0.4 * np.sin(2 * np.pi * hz * t)).astype(np.float32)
    return Audio(np.stack([x, x], axis=1), rate)


def corr(a: np.ndarray, b: np.ndarray) -> float:
    n = min(len(a), len(b))
    return float(np.corrcoef(a[:n], b[:n])[0, 1])


@pytest.fixture(scope="module")
def ace_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_ace_step(tmp_path_factory.mktemp("ace") / "acestep")


def settings(model_dir: Path | None, **extra: Any) -> Settings:
    values = {"ace_step_model_dir": model_dir, "diffusers_device": "cpu", "ace_step_steps": 2}
    return Settings(**{**values, **extra})


@pytest.fixture(scope="module")
def engine(ace_dir: Path) -> Iterator[AceStepEngine]:
    made = AceStepEngine(ace_step_config(settings(ace_dir)))
    made.setup()
    yield made
    made.close()


def song_request(op: Capability, duration: float, **fields: Any) -> EngineRequest:
    params = {"custom": True, "style": "synth pop, 96 bpm, in D minor", "title": "Neon"}
    params.update(fields.pop("params", {}))
    return EngineRequest(
        operation=op,
        prompt=fields.pop("prompt", ONE_LINE),
        count=1,
        duration_s=duration,
        sample_rate=RATE,
        seed=3,
        params=params,
        **fields,
    )


def one_track(engine: AceStepEngine, request: EngineRequest) -> Audio:
    output = engine.run(request, lambda _: None)
    assert isinstance(output, MusicOutput)
    (track,) = list(output.tracks)
    return track.audio


# -- what a request asks ACE-Step for (no model) ----------------------------------------


def test_the_call_takes_tempo_and_key_from_the_style_and_sounds() -> None:
    call = plan(song_request(Capability.TEXT_TO_MUSIC, 34.0)).call
    assert (call.task_type, call.bpm, call.keyscale) == ("text2music", 96, "D minor")
    assert call.lyrics == ONE_LINE and call.caption == "synth pop, 96 bpm, in D minor"
    sound = song_request(
        Capability.TEXT_TO_MUSIC,
        8.0,
        prompt="rain on a roof",
        params={"custom": False, "style": "", "sound": {"loop": True, "tempo": 120, "key": "F#m"}},
    )
    looped = plan(sound)
    assert (looped.call.bpm, looped.call.keyscale) == (120, "F# minor")
    assert looped.call.lyrics == "[instrumental]" and looped.sheet.lyrics == ""
    assert "seamless loop" in looped.call.caption and "rain on a roof" in looped.call.caption
    assert [_keyscale(k) for k in ("Am", "Bb major", "C", "no key")] == [
        "A minor",
        "Bb major",
        "C major",
        None,
    ]


def test_custom_mode_with_vocals_and_no_lyrics_and_bad_windows_are_the_inputs_fault() -> None:
    with pytest.raises(EngineError, match="needs lyrics") as empty:
        plan(song_request(Capability.TEXT_TO_MUSIC, 34.0, prompt="   "))
    assert empty.value.fail_code == 400
    source = sine(4.0)
    extend = song_request(Capability.EXTEND_MUSIC, 6.0, audio=source, params={"continue_at": 5.0})
    with pytest.raises(EngineError, match=r"continue_at must be in \(0, 4.00\] s"):
        plan(extend)
    replace = song_request(
        Capability.REPLACE_SECTION,
        4.0,
        audio=source,
        params={"infill_start": 3.0, "infill_end": 2.0},
    )
    with pytest.raises(EngineError, match="infill_start < infill_end"):
        plan(replace)
    with pytest.raises(EngineError, match="add_vocals needs lyrics"):
        plan(song_request(Capability.ADD_VOCALS, 4.0, audio=source, prompt="   "))
    with pytest.raises(EngineError, match="needs an input audio track"):
        plan(song_request(Capability.COVER_MUSIC, 4.0))


def test_splice_keeps_the_source_outside_the_window_and_crossfades_into_it() -> None:
    rate = 1000
    source, new = np.ones((4000, 2), np.float32), np.zeros((4000, 2), np.float32)
    out = splice(source, new, 1000, 3000, rate)
    assert (out[:500] == 1).all() and (out[1000:3000] == 0).all() and (out[3500:] == 1).all()
    assert 0 < out[750, 0] < 1 and 0 < out[3250, 0] < 1  # the 0.5 s joins are fades
    assert np.all(np.diff(out[500:1000, 0]) <= 0) and np.all(np.diff(out[3000:3500, 0]) >= 0)


def test_preflight_names_a_missing_folder_a_wrong_model_and_a_missing_component(
    ace_dir: Path, tmp_path: Path
) -> None:
    factory = music_factories(settings(None))["ace-step"]
    with pytest.raises(WeightsError, match="needs REELSERVE_ACE_STEP_MODEL_DIR"):
        factory.preflight()
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    (wrong / "model_index.json").write_text('{"_class_name": "FluxPipeline"}')
    with pytest.raises(WeightsError, match=r"holds FluxPipeline .*needs AceStepPipeline"):
        music_factories(settings(wrong))["ace-step"].preflight()
    broken = tmp_path / "broken"
    shutil.copytree(ace_dir, broken)
    for weights in (broken / "condition_encoder").glob("*.safetensors"):
        weights.unlink()
    with pytest.raises(WeightsError, match="'condition_encoder' has no weights file"):
        music_factories(settings(broken))["ace-step"].preflight()
    routed = settings(ace_dir, engines={Capability.TEXT_TO_IMAGE: "ace-step"})
    with pytest.raises(Exception, match="gives 'ace-step' text_to_image, which it cannot do"):
        music_factories(routed)["ace-step"].preflight()


# -- the engine, directly ----------------------------------------------------------------


def test_every_operation_makes_a_track_of_the_asked_length_keeping_what_it_should(
    engine: AceStepEngine,
) -> None:
    source = sine(4.0)
    lengths = {}
    extended = one_track(
        engine,
        song_request(Capability.EXTEND_MUSIC, 6.0, audio=source, params={"continue_at": 3.0}),
    )
    head, tail = slice(0, int(2.4 * RATE)), slice(int(3.1 * RATE), int(4 * RATE))
    assert corr(extended.samples[head, 0], source.samples[head, 0]) > 0.99  # kept exactly
    assert abs(corr(extended.samples[tail, 0], source.samples[tail, 0])) < 0.5  # made anew
    replaced = one_track(
        engine,
        song_request(
            Capability.REPLACE_SECTION,
            4.0,
            audio=source,
            params={"infill_start": 1.5, "infill_end": 2.5},
        ),
    )
    outside = np.r_[0:RATE, int(3.0 * RATE) : 4 * RATE]
    assert corr(replaced.samples[outside, 0], source.samples[outside, 0]) > 0.99
    inside = slice(int(1.6 * RATE), int(2.4 * RATE))
    assert abs(corr(replaced.samples[inside, 0], source.samples[inside, 0])) < 0.5
    assert extended.sample_rate == replaced.sample_rate == RATE
    for op in (Capability.COVER_MUSIC, Capability.ADD_VOCALS, Capability.ADD_INSTRUMENTAL):
        lengths[op] = one_track(engine, song_request(op, 4.0, audio=source)).seconds
    lengths[Capability.EXTEND_MUSIC], lengths[Capability.REPLACE_SECTION] = (
        extended.seconds,
        replaced.seconds,
    )
    assert lengths == {
        Capability.EXTEND_MUSIC: 6.0,
        Capability.REPLACE_SECTION: 4.0,
        Capability.COVER_MUSIC: 4.0,
        Capability.ADD_VOCALS: 4.0,
        Capability.ADD_INSTRUMENTAL: 4.0,
    }
    assert engine.stats.starts == 1  # one child, loaded once, for every task of the module


def test_the_same_request_sings_the_same_song_and_the_next_track_another(
    engine: AceStepEngine,
) -> None:
    request = dataclasses.replace(
        song_request(Capability.COVER_MUSIC, 2.0, audio=sine(2.0)), count=2
    )
    first, second = (list(engine.run(request, lambda _: None).tracks) for _ in range(2))  # type: ignore[union-attr]
    assert [t.recipe["seed"] for t in first] == [3, 4]
    for a, b in zip(first, second, strict=True):
        assert np.array_equal(a.audio.samples, b.audio.samples)  # the source's latents too
    assert not np.array_equal(first[0].audio.samples, first[1].audio.samples)


def test_a_child_killed_mid_song_fails_that_song_and_the_next_succeeds(
    engine: AceStepEngine,
) -> None:
    victim = engine.stats.pid
    assert victim is not None
    request = song_request(Capability.TEXT_TO_MUSIC, 4.0)

    def kill(fraction: float) -> None:
        if fraction < 1 and engine.stats.pid == victim:
            os.kill(victim, signal.SIGKILL)

    with pytest.raises(EngineError, match=r"killed by SIGKILL.*the task was lost"):
        list(engine.run(request, kill).tracks)  # type: ignore[union-attr]
    assert one_track(engine, request).seconds == 4.0
    assert engine.stats.starts == 2 and engine.stats.pid != victim


def test_interrupting_a_song_stops_it_at_the_next_step_and_the_child_lives_on(
    engine: AceStepEngine,
) -> None:
    starts = engine.stats.starts
    seen: list[float] = []

    def stop(fraction: float) -> None:
        seen.append(fraction)
        engine.interrupt()

    with pytest.raises(EngineInterrupted):
        list(engine.run(song_request(Capability.TEXT_TO_MUSIC, 4.0), stop).tracks)  # type: ignore[union-attr]
    assert seen and seen[-1] < 1
    assert one_track(engine, song_request(Capability.TEXT_TO_MUSIC, 2.0)).seconds == 2.0
    assert engine.stats.starts == starts


def test_a_turbo_checkpoint_refuses_what_only_a_base_dit_does(tmp_path: Path) -> None:
    turbo = AceStepEngine(ace_step_config(settings(build_ace_step(tmp_path / "turbo", turbo=True))))
    try:
        turbo.setup()
        assert turbo.stats.info["turbo"] is True
        with pytest.raises(EngineError, match="only a base DiT does") as refused:
            turbo.run(song_request(Capability.ADD_VOCALS, 2.0, audio=sine(2.0)), lambda _: None)
        assert refused.value.fail_code == 400
        assert one_track(turbo, song_request(Capability.COVER_MUSIC, 2.0, audio=sine(2.0)))
    finally:
        turbo.close()


def test_each_gpu_setting_reaches_the_pipeline(ace_dir: Path) -> None:
    tuned = ace_step_config(
        settings(
            ace_dir,
            diffusers_dtype="bfloat16",
            diffusers_compile=True,
            diffusers_offload="model",
            diffusers_vae_tiling=True,
        )
    )
    runner = AceStepRunner(tuned)
    info = runner.load()
    pipe = runner.pipe
    assert info["dtype"] == "bfloat16" and pipe.transformer.dtype == pipe.vae.dtype
    assert str(pipe.vae.dtype) == "torch.bfloat16"
    assert info["offloaded"] and hasattr(pipe.transformer, "_hf_hook")
    assert info["compiled_blocks"] == 2  # both transformer layers, compiled once each
    assert info["vae_tiling"] is False  # the Oobleck VAE has no tiling: the setting is left out
    plain = AceStepRunner(
        dataclasses.replace(
            tuned,
            pipeline=dataclasses.replace(
                tuned.pipeline, dtype="float32", compile=False, offload="none"
            ),
        )
    )
    info = plain.load()
    assert (info["dtype"], info["offloaded"], info["compiled_blocks"]) == ("float32", False, 0)


# -- real Suno tasks through a server ----------------------------------------------------


@pytest.fixture(scope="module")
def server(ace_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with run_server_with(
        tmp_path_factory.mktemp("ace-server"),
        {"alice": None},
        worker_poll_s=0.1,
        routes=ROUTES,
        ace_step_model_dir=ace_dir,
        diffusers_device="cpu",
        ace_step_steps=2,
    ) as running:
        yield running


def test_suno_generate_extend_and_upload_cover_run_on_ace_step(server: RunningServer) -> None:
    client = server.client("alice")
    made = song(client, custom_song(ONE_LINE))
    seconds = track_seconds(ONE_LINE)
    assert len(made.tracks) == 2
    for track in made.tracks:
        assert (track["title"], track["tags"]) == ("Neon Rivers", "synth pop, 110 bpm")
        assert track["prompt"] == ONE_LINE
        audio = audio_at(client, track["audioUrl"])
        assert abs(audio.seconds - seconds) < 0.1 and audio.samples.shape[1] == 2
        assert float(np.sqrt(np.mean(audio.samples**2))) > 1e-3  # not silence

    extend = {
        "audioId": made.audio_id,
        "defaultParamFlag": True,
        "prompt": ONE_LINE,
        "style": "synth pop",
        "title": "Neon Rivers II",
        "continueAt": 5,
        "model": "V4_5",
        "callBackUrl": "https://example.com/cb",
    }
    extended = song(client, extend, "/api/v1/generate/extend")
    for track in extended.tracks:
        audio = audio_at(client, track["audioUrl"])
        assert abs(audio.seconds - (5 + seconds)) < 0.1, audio.seconds
        assert track["title"] == "Neon Rivers II"

    static = StaticHttpServer()
    try:
        url = static.add("/clip.wav", encode_audio(sine(3.0), "wav"), "audio/wav")
        cover = {
            "uploadUrl": url,
            "prompt": ONE_LINE,
            "style": "lofi jazz",
            "title": "Cover",
            "customMode": True,
            "instrumental": False,
            "model": "V4_5PLUS",
            "callBackUrl": "https://example.com/cb",
        }
        covered = song(client, cover, "/api/v1/generate/upload-cover")
    finally:
        static.close()
    for track in covered.tracks:
        assert abs(audio_at(client, track["audioUrl"]).seconds - 3.0) < 0.1

    engine = server.app.state.worker.registry.loaded("ace-step")
    assert isinstance(engine, AceStepEngine)
    assert engine.stats.starts == 1 and engine.stats.runs == 6  # 3 tasks x 2 tracks, one load
    assert engine.stats.info["pipeline"] == "AceStepPipeline"


def test_engines_check_sings_a_short_song(ace_dir: Path, tmp_path: Path) -> None:
    import re

    from typer.testing import CliRunner

    from reelserve.cli import app

    env = {
        "REELSERVE_DATA_DIR": str(tmp_path),
        "REELSERVE_ROUTES": "text_to_music=ace-step",
        "REELSERVE_ACE_STEP_MODEL_DIR": str(ace_dir),
        "REELSERVE_ACE_STEP_STEPS": "2",
        "REELSERVE_DIFFUSERS_DEVICE": "cpu",
    }
    result = CliRunner().invoke(app, ["engines", "check", "--seconds", "2"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert re.fullmatch(
        r"ace-step: loaded in \d+\.\d\d s \(AceStepPipeline, cpu, float32\)", lines[0]
    ), lines
    assert re.fullmatch(
        r"ace-step: text_to_music, 1 track \(2\.00 s at 44100 Hz\) in "
        r"\d+\.\d\d s \(pipeline \d+\.\d\d s\)",
        lines[1],
    ), lines
