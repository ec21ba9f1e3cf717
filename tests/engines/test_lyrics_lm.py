"""The `lyrics-lm` engine: a tiny random-weight Qwen3 chat LM of the real classes, saved and
reloaded `local_files_only`, run through real Suno lyrics tasks and directly.

Random weights over a byte vocabulary write nonsense (often invalid UTF-8),
so these tests check structure (two sheets, a title, non-empty text, the
same request giving the same sheets) and the machinery (one load across
tasks, a killed child, an interrupt, the settings reaching the model), not
the lyrics. Reading a real answer is tested on text (parse.py).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reelserve.engines.base import Capability, EngineError, EngineRequest, TextOutput
from reelserve.engines.diffusers.weights import WeightsError
from reelserve.engines.isolated import EngineInterrupted, Job
from reelserve.engines.text.config import lyrics_lm_config
from reelserve.engines.text.factory import text_factories
from reelserve.engines.text.lyrics_lm import ANSWER_FILE, LyricsLMEngine, LyricsLMRunner
from reelserve.engines.text.parse import idea_title, messages, parse_lyrics
from reelserve.settings import Settings
from tests.suno import create, wait
from tests.support import RunningServer, run_server_with
from tests.tiny_text import build_lyrics_lm

IDEA = "a lighthouse keeper and the sea"
TOKENS = 40


@pytest.fixture(scope="module")
def lm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_lyrics_lm(tmp_path_factory.mktemp("lyrics") / "lm")


def settings(model_dir: Path | None, **extra: Any) -> Settings:
    values = {
        "lyrics_lm_model_dir": model_dir,
        "lyrics_lm_device": "cpu",
        "lyrics_lm_max_new_tokens": TOKENS,
    }
    return Settings(**{**values, **extra})


@pytest.fixture(scope="module")
def engine(lm_dir: Path) -> Iterator[LyricsLMEngine]:
    made = LyricsLMEngine(lyrics_lm_config(settings(lm_dir)))
    made.setup()
    yield made
    made.close()


def lyrics(count: int = 1, seed: int = 5, prompt: str = IDEA) -> EngineRequest:
    return EngineRequest(Capability.WRITE_LYRICS, prompt=prompt, count=count, seed=seed)


def sheets(engine: LyricsLMEngine, request: EngineRequest, progress: Any = None) -> list[Any]:
    output = engine.run(request, progress or (lambda _: None))
    assert isinstance(output, TextOutput)
    return list(output.data["lyrics"])


# -- reading the model's answer (no model) ----------------------------------------------


def test_the_first_line_is_the_title_and_the_rest_the_lyrics() -> None:
    answer = "Keeper of the Light\n\n[Verse]\nThe lamp goes round\n[Chorus]\nOh sea, oh sea\n"
    assert parse_lyrics(answer, IDEA) == {
        "title": "Keeper of the Light",
        "text": "[Verse]\nThe lamp goes round\n[Chorus]\nOh sea, oh sea",
    }
    marked = '**Title: "Salt and Stone"**\r\n[Verse]\r\nWaves\x00 on the rocks'
    assert parse_lyrics(marked, IDEA) == {
        "title": "Salt and Stone",
        "text": "[Verse]\nWaves on the rocks",
    }
    assert parse_lyrics("# Tide\n[Verse]\nx", IDEA)["title"] == "Tide"


def test_thinking_is_dropped_from_the_answer() -> None:
    thought = "<think>\nThe user wants a sad song.\n</think>\n\nNight Watch\n[Verse]\nAlone"
    assert parse_lyrics(thought, IDEA) == {"title": "Night Watch", "text": "[Verse]\nAlone"}
    opened_in_prompt = "planning the rhymes...</think>Night Watch\n[Chorus]\nLight"
    assert parse_lyrics(opened_in_prompt, IDEA)["title"] == "Night Watch"
    cut_off = "<think>\nstill thinking when the tokens ran out"
    assert parse_lyrics(cut_off, IDEA) == {"title": idea_title(IDEA), "text": ""}


def test_without_a_title_line_the_title_comes_from_the_idea() -> None:
    tagged = "[Verse]\nThe lamp goes round\n[Chorus]\nOh sea"
    assert parse_lyrics(tagged, IDEA) == {"title": idea_title(IDEA), "text": tagged}
    assert parse_lyrics("one long line only", IDEA) == {
        "title": idea_title(IDEA),
        "text": "one long line only",
    }
    long_first = "x" * 81 + "\nsecond"
    assert parse_lyrics(long_first, IDEA)["title"] == idea_title(IDEA)
    assert idea_title(IDEA) == "Lighthouse Keeper And Sea"
    assert idea_title("Write me a song about Tokyo rain at night") == "Tokyo Rain At Night"
    assert idea_title("???") == "Song"


def test_the_prompt_asks_a_songwriter_for_a_title_and_tagged_sections() -> None:
    system, user = messages("  rain in the city ")
    assert system["role"] == "system" and "songwriter" in system["content"]
    assert user["role"] == "user" and "about: rain in the city\n" in user["content"]
    assert all(word in user["content"] for word in ("title", "[Verse]", "[Chorus]"))


# -- preflight ---------------------------------------------------------------------------


def test_preflight_names_the_missing_setting_folder_and_files(lm_dir: Path, tmp_path: Path) -> None:
    def preflight(model_dir: Path | None) -> None:
        text_factories(settings(model_dir))["lyrics-lm"].preflight()

    with pytest.raises(WeightsError, match="needs REELSERVE_LYRICS_LM_MODEL_DIR"):
        preflight(None)
    with pytest.raises(WeightsError, match=r"REELSERVE_LYRICS_LM_MODEL_DIR=.*is not a directory"):
        preflight(tmp_path / "absent")
    preflight(lm_dir)
    cases = {
        "config.json": "has no config.json",
        "model.safetensors": "weights in .* are incomplete: no model.safetensors",
        "tokenizer.json": r"has no tokenizer files \(tokenizer.json or vocab.json",
        "tokenizer_config.json": "has no tokenizer_config.json",
        "chat_template.jinja": "has no chat template",
    }
    for name, message in cases.items():
        broken = tmp_path / name.replace(".", "_")
        shutil.copytree(lm_dir, broken)
        (broken / name).unlink()
        with pytest.raises(WeightsError, match=message):
            preflight(broken)
    sharded = tmp_path / "sharded"
    shutil.copytree(lm_dir, sharded)
    (sharded / "model.safetensors").rename(sharded / "model-00001-of-00002.safetensors")
    shards = {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}
    (sharded / "model.safetensors.index.json").write_text(json.dumps({"weight_map": shards}))
    with pytest.raises(WeightsError, match=r"model-00002-of-00002\.safetensors is missing"):
        preflight(sharded)


# -- the engine, directly ----------------------------------------------------------------


def test_count_sheets_seeded_from_the_seed_the_same_request_the_same_lyrics(
    engine: LyricsLMEngine,
) -> None:
    seen: list[float] = []
    first = sheets(engine, lyrics(count=2), seen.append)
    assert len(first) == 2 and first[0] != first[1]
    for sheet in first:
        assert set(sheet) == {"title", "text"} and sheet["title"] and sheet["text"].strip()
    assert seen == sorted(seen) and len(seen) > TOKENS and seen[-1] == 1.0  # per token
    assert sheets(engine, lyrics(count=2)) == first
    assert sheets(engine, lyrics(count=1, seed=6)) == first[1:]  # variant k uses seed + k
    assert engine.last_tokens > 0
    assert engine.stats.starts == 1 and engine.stats.runs == 5  # one child, loaded once
    with pytest.raises(EngineError, match="needs an idea") as empty:
        engine.run(lyrics(prompt="  "), lambda _: None)
    assert empty.value.fail_code == 400


def test_a_child_killed_mid_sheet_fails_that_task_and_the_next_succeeds(
    engine: LyricsLMEngine,
) -> None:
    victim = engine.stats.pid
    assert victim is not None

    def kill(fraction: float) -> None:
        if fraction < 1 and engine.stats.pid == victim:
            os.kill(victim, signal.SIGKILL)

    with pytest.raises(EngineError, match=r"killed by SIGKILL.*the task was lost"):
        engine.run(lyrics(), kill)
    assert sheets(engine, lyrics())[0]["text"]
    assert engine.stats.starts == 2 and engine.stats.pid != victim


def test_interrupting_stops_the_generation_at_the_next_token_and_the_child_lives_on(
    engine: LyricsLMEngine,
) -> None:
    starts = engine.stats.starts
    seen: list[float] = []

    def stop(fraction: float) -> None:
        seen.append(fraction)
        engine.interrupt()

    with pytest.raises(EngineInterrupted):
        engine.run(lyrics(), stop)
    assert seen and seen[-1] < 1 and len(seen) < 3  # stopped after its first token or two
    assert sheets(engine, lyrics())[0]["text"]
    assert engine.stats.starts == starts


def test_every_setting_reaches_the_loaded_model(lm_dir: Path, tmp_path: Path) -> None:
    import torch

    from reelserve.engines.text.lyrics_lm import resolve_device, resolve_dtype

    tuned = LyricsLMRunner(
        lyrics_lm_config(
            settings(
                lm_dir,
                lyrics_lm_dtype="bfloat16",
                lyrics_lm_max_new_tokens=24,
                lyrics_lm_temperature=0,
                lyrics_lm_compile=True,
            )
        )
    )
    info = tuned.load()
    model, generation = tuned.model, tuned.model.generation_config
    assert type(model).__name__ == "Qwen3ForCausalLM" and not model.training
    assert Path(model.name_or_path) == lm_dir  # REELSERVE_LYRICS_LM_MODEL_DIR
    assert model.device.type == "cpu" and model.dtype == torch.bfloat16
    assert (generation.max_new_tokens, generation.do_sample) == (24, False)  # 0: greedy
    assert generation.cache_implementation == "static" and generation.compile_config is not None
    assert not generation.disable_compile
    assert (info["dtype"], info["device"], info["compiled"]) == ("bfloat16", "cpu", True)
    answers = []
    for seed in (1, 2):  # greedy: the seed does not matter; the static cache works on CPU
        job = Job("write_lyrics", IDEA, 0, 0, 0, 0, seed, output=str(tmp_path / "out.npy"))
        tuned.generate(job, lambda _: None, lambda: False)
        answers.append((tmp_path / ANSWER_FILE).read_text())
    assert answers[0] == answers[1] and json.loads(answers[0])["tokens"] > 0
    plain = LyricsLMRunner(lyrics_lm_config(settings(lm_dir)))
    info = plain.load()
    generation = plain.model.generation_config
    assert plain.model.dtype == torch.float32  # auto on CPU
    assert (generation.max_new_tokens, generation.do_sample, generation.temperature) == (
        TOKENS,
        True,
        0.8,
    )
    assert generation.disable_compile and generation.cache_implementation is None
    assert resolve_dtype("auto", torch.device("cuda")) == torch.bfloat16
    assert resolve_dtype("float16", torch.device("cpu")) == torch.float16
    with pytest.raises(EngineError, match="REELSERVE_LYRICS_LM_DEVICE='nowhere' is not a device"):
        resolve_device("nowhere")
    if not torch.cuda.is_available():
        with pytest.raises(EngineError, match="REELSERVE_LYRICS_LM_DEVICE='cuda' but CUDA"):
            resolve_device("cuda")


# -- real Suno tasks through a server ----------------------------------------------------


@pytest.fixture(scope="module")
def server(lm_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with run_server_with(
        tmp_path_factory.mktemp("lyrics-server"),
        {"alice": None},
        worker_poll_s=0.1,
        routes="write_lyrics=lyrics-lm;*=synthetic",
        lyrics_lm_model_dir=lm_dir,
        lyrics_lm_device="cpu",
        lyrics_lm_max_new_tokens=TOKENS,
    ) as running:
        yield running


def test_suno_lyrics_run_on_lyrics_lm_the_same_request_giving_the_same_sheets(
    server: RunningServer,
) -> None:
    client = server.client("alice")
    body = {"prompt": IDEA, "callBackUrl": "https://example.com/cb"}
    records = []
    for _ in range(2):
        task_id = create(client, "/api/v1/lyrics", body)
        records.append(
            wait(client, "/api/v1/lyrics/record-info", task_id, lambda d: d["status"] != "PENDING")
        )
    for record in records:
        assert record["status"] == "SUCCESS" and record["type"] == "LYRICS", record
        made = record["response"]["data"]
        assert len(made) == 2 and made[0]["text"] != made[1]["text"]
        for sheet in made:
            assert sheet["status"] == "complete" and sheet["title"] and sheet["text"].strip()
    assert records[0]["response"]["data"] == records[1]["response"]["data"]
    engine = server.app.state.worker.registry.loaded("lyrics-lm")
    assert isinstance(engine, LyricsLMEngine)
    assert engine.stats.starts == 1 and engine.stats.runs == 4  # 2 tasks x 2 sheets, one load
    assert engine.stats.info["pipeline"] == "Qwen3ForCausalLM"


def test_engines_check_writes_one_sheet(lm_dir: Path, tmp_path: Path) -> None:
    import re

    from typer.testing import CliRunner

    from reelserve.cli import app

    env = {
        "REELSERVE_DATA_DIR": str(tmp_path),
        "REELSERVE_ROUTES": "write_lyrics=lyrics-lm",
        "REELSERVE_LYRICS_LM_MODEL_DIR": str(lm_dir),
        "REELSERVE_LYRICS_LM_DEVICE": "cpu",
        "REELSERVE_LYRICS_LM_MAX_NEW_TOKENS": str(TOKENS),
    }
    result = CliRunner().invoke(app, ["engines", "check", "--engine", "lyrics-lm"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert re.fullmatch(
        r"lyrics-lm: loaded in \d+\.\d\d s \(Qwen3ForCausalLM, cpu, float32\)", lines[0]
    ), lines
    assert re.fullmatch(
        r"lyrics-lm: write_lyrics, 1 sheet \('.+', \d+ lines\) in \d+\.\d\d s "
        r"\(pipeline \d+\.\d\d s, \d+ tokens, \d+ tokens/s\)",
        lines[1],
    ), lines
