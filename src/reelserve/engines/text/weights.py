"""Checking the `lyrics-lm` engine's files before anything loads them (no torch, no transformers).

A server routed to `lyrics-lm` whose folder is missing or incomplete refuses
to start and says what is missing (like the other engines), instead of
failing its first task. The layout is what `save_pretrained` writes and the
Hub's instruct-model repositories (e.g. Qwen/Qwen3-1.7B) hold: config.json,
the weights (one file or a sharded index and its shards), the tokenizer's
files and a chat template (chat_template.jinja, or tokenizer_config.json's
`chat_template`).
"""

from __future__ import annotations

from typing import Any

from reelserve.engines.diffusers.weights import WeightsError
from reelserve.engines.model_folder import check_weight_files, model_folder, read_json
from reelserve.engines.music.weights import need_package
from reelserve.engines.text.config import LyricsLMConfig

TOKENIZER_FILES = ("tokenizer.json", "vocab.json", "tokenizer.model")
"""Any one of these: a fast tokenizer, a BPE vocabulary (with merges.txt), a SentencePiece model."""
TEMPLATE_FILES = ("chat_template.jinja", "chat_template.json")


def check_lyrics_lm(config: LyricsLMConfig) -> dict[str, Any]:
    """The model's config.json, after checking the folder holds a complete chat LM."""
    engine, setting = config.engine, config.setting
    need_package(engine, "transformers", "the transformers package")
    directory, where = model_folder(
        config.model_dir,
        engine,
        setting,
        "a local folder with config.json, the weights and the tokenizer (with a chat template) "
        "of a small instruct LM, e.g. Qwen/Qwen3-1.7B (see docs/engines.md, 'lyrics-lm')",
    )
    model = read_json(directory / "config.json", engine, where)
    if not model.get("model_type"):
        raise WeightsError(f"engine {engine!r}: {where}: config.json has no model_type")
    check_weight_files(directory, engine, where)
    tokenizer = read_json(directory / "tokenizer_config.json", engine, where)
    if not any((directory / name).is_file() for name in TOKENIZER_FILES):
        raise WeightsError(
            f"engine {engine!r}: {where} has no tokenizer files ({' or '.join(TOKENIZER_FILES)})"
        )
    bpe = (directory / "vocab.json").is_file() and not (directory / "tokenizer.json").is_file()
    if bpe and not (directory / "merges.txt").is_file():
        raise WeightsError(f"engine {engine!r}: {where} has vocab.json but no merges.txt")
    template = tokenizer.get("chat_template")
    if not template and not any((directory / name).is_file() for name in TEMPLATE_FILES):
        raise WeightsError(
            f"engine {engine!r}: {where} has no chat template (chat_template.jinja or "
            "tokenizer_config.json's chat_template): lyrics-lm needs an instruct (chat) model"
        )
    return model
