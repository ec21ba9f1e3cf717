"""Checking a transformers model folder (what `save_pretrained` writes) before anything loads it.

Torch-free: the `swin2sr` and `lyrics-lm` preflights use these, so a server
whose folder is missing or incomplete refuses to start naming what is
missing. Messages name the engine and the setting (`where`: `SETTING=path`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reelserve.engines.diffusers.weights import WeightsError

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
INDEX_FILES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")


def model_folder(directory: Path | None, engine: str, setting: str, needs: str) -> tuple[Path, str]:
    """The folder and `where` (`SETTING=path`) when it exists; else a WeightsError (`needs`:
    what the folder should hold, for the message when the setting is empty)."""
    if directory is None:
        raise WeightsError(f"engine {engine!r} needs {setting}: {needs}")
    where = f"{setting}={directory}"
    if not directory.is_dir():
        raise WeightsError(f"engine {engine!r}: {where} is not a directory")
    return directory, where


def read_json(path: Path, engine: str, where: str) -> dict[str, Any]:
    """The JSON object in `path`; a WeightsError when it is missing, unreadable or not an object."""
    if not path.is_file():
        raise WeightsError(f"engine {engine!r}: {where} has no {path.name}")
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise WeightsError(f"engine {engine!r}: {path} is unreadable: {exc}") from None
    if not isinstance(data, dict):
        raise WeightsError(f"engine {engine!r}: {path} is not a JSON object")
    return data


def check_weight_files(directory: Path, engine: str, where: str) -> None:
    """One weights file, or a sharded index whose every shard is there."""
    if any((directory / name).is_file() for name in WEIGHT_FILES):
        return
    index = next((directory / n for n in INDEX_FILES if (directory / n).is_file()), None)
    if index is None:
        raise WeightsError(
            f"engine {engine!r}: weights in {directory} are incomplete: no "
            f"{' or '.join(WEIGHT_FILES)} (nor a sharded {INDEX_FILES[0]})"
        )
    weight_map = read_json(index, engine, where).get("weight_map")
    if not isinstance(weight_map, dict) or not weight_map:
        raise WeightsError(f"engine {engine!r}: {index} has no weight_map")
    for shard in sorted({str(name) for name in weight_map.values()}):
        if not (directory / shard).is_file():
            raise WeightsError(
                f"engine {engine!r}: weights in {directory} are incomplete: {shard} is missing "
                f"(listed in {index.name})"
            )
