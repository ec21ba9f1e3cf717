"""Checking a diffusers weights directory before anything loads it (no torch needed).

A server configured for a model whose files are missing should refuse to start
and say which file is missing, not fail its first task minutes later.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reelserve.engines.registry import EngineUnavailable

WEIGHT_SUFFIXES = (".safetensors", ".bin")


class WeightsError(EngineUnavailable):
    """The configured weights directory is missing or incomplete."""


def read_model_index(directory: Path | None, engine: str, setting: str) -> dict[str, Any]:
    """The directory's model_index.json, after checking every component it names is complete."""
    if directory is None:
        raise WeightsError(
            f"engine {engine!r} needs {setting}: the path of a local diffusers model "
            "directory (see docs/engines.md, 'Preparing weights')"
        )
    where = f"{setting}={directory}"
    if not directory.is_dir():
        raise WeightsError(f"engine {engine!r}: {where} is not a directory")
    index_path = directory / "model_index.json"
    if not index_path.is_file():
        raise WeightsError(
            f"engine {engine!r}: {where} has no model_index.json (is it a diffusers "
            "directory? single-file checkpoints must be converted, see docs/engines.md)"
        )
    try:
        index = json.loads(index_path.read_text())
    except (OSError, ValueError) as exc:
        raise WeightsError(f"engine {engine!r}: {index_path} is unreadable: {exc}") from None
    if not isinstance(index, dict):
        raise WeightsError(f"engine {engine!r}: {index_path} is not a JSON object")
    return index


def components(index: dict[str, Any]) -> dict[str, str]:
    """Component name -> class name, for the components the index says are present."""
    out: dict[str, str] = {}
    for name, value in index.items():
        if name.startswith("_") or not isinstance(value, list) or len(value) != 2:
            continue
        if value[0] is not None and value[1] is not None:
            out[name] = str(value[1])
    return out


def check_weights(
    directory: Path | None, engine: str, setting: str, required: tuple[str, ...]
) -> dict[str, Any]:
    """The model index of a complete directory; else `WeightsError` naming what is missing."""
    index = read_model_index(directory, engine, setting)
    assert directory is not None
    present = components(index)
    missing = [name for name in required if name not in present]
    if missing:
        raise WeightsError(
            f"engine {engine!r}: {directory}/model_index.json lists no {', '.join(missing)} "
            f"(needed: {', '.join(required)})"
        )
    for name in sorted(present):
        problem = _component_problem(directory / name, name)
        if problem:
            raise WeightsError(
                f"engine {engine!r}: weights in {directory} are incomplete: {problem}"
            )
    return index


def _component_problem(folder: Path, name: str) -> str | None:
    if not folder.is_dir():
        return f"subfolder {name!r} is missing"
    files = {p.name for p in folder.iterdir() if p.is_file()}
    if "scheduler" in name:
        return (
            None if "scheduler_config.json" in files else f"{name}/scheduler_config.json is missing"
        )
    if "tokenizer" in name or "processor" in name:
        return None if files else f"subfolder {name!r} is empty"
    if "config.json" not in files:
        return f"{name}/config.json is missing"
    indexes = sorted(f for f in files if f.endswith(".index.json"))
    for index_name in indexes:
        try:
            weight_map = json.loads((folder / index_name).read_text()).get("weight_map", {})
        except (OSError, ValueError, AttributeError) as exc:
            return f"{name}/{index_name} is unreadable: {exc}"
        for shard in sorted(set(weight_map.values())):
            if shard not in files:
                return f"{name}/{shard} is missing (listed in {index_name})"
    if not indexes and not any(f.endswith(WEIGHT_SUFFIXES) for f in files):
        return f"subfolder {name!r} has no weights file (*.safetensors or *.bin)"
    return None
