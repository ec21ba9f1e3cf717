"""Checking the music engines' files before anything loads them (no torch, no onnxruntime).

A server routed to `demucs` or `basic-pitch` whose files or packages are
missing refuses to start and says what is missing (like the diffusers
engines, engines/diffusers/weights.py), instead of failing its first task.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reelserve.engines.diffusers.weights import WeightsError
from reelserve.engines.music.config import AceStepConfig, BasicPitchConfig, DemucsConfig

INSTALL = "pip install 'reelserve[music]' (see docs/engines.md, 'Music engines')"
ACE_STEP_PIPELINE = "AceStepPipeline"
ACE_STEP_REQUIRED = (
    "transformer", "condition_encoder", "vae", "text_encoder", "tokenizer", "scheduler"
)  # fmt: skip
BASIC_PITCH_ONNX = ("saved_models", "icassp_2022", "nmp.onnx")
"""Where basic-pitch 0.4 keeps its trained ONNX model inside the package."""


def installed(module: str) -> bool:
    """Whether `module` can be imported, without importing it (nor its package's __init__)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def need_package(engine: str, module: str, what: str) -> None:
    if not installed(module):
        raise WeightsError(f"engine {engine!r} needs {what}, which is not installed: {INSTALL}")


def check_ace_step(config: AceStepConfig) -> None:
    """diffusers with AceStepPipeline (0.38+) is installed, and the model directory holds a
    complete AceStepPipeline checkpoint; the operations routed to it are ones it does."""
    from reelserve.engines.base import Capability
    from reelserve.engines.diffusers.factory import refuse_unsupported
    from reelserve.engines.diffusers.image_runner import checked_index
    from reelserve.engines.music.ace_step_plan import OPERATIONS

    pipeline = config.pipeline
    need_package(pipeline.engine, "diffusers", "diffusers 0.38 or later (AceStepPipeline)")
    version = importlib.metadata.version("diffusers")
    if tuple(int(p) for p in version.split(".")[:2] if p.isdigit()) < (0, 38):
        raise WeightsError(
            f"engine {pipeline.engine!r} needs diffusers 0.38 or later (AceStepPipeline); "
            f"diffusers {version} is installed: {INSTALL}"
        )
    checked_index(pipeline, ACE_STEP_REQUIRED, ACE_STEP_PIPELINE)
    refuse_unsupported(pipeline, frozenset(Capability(op) for op in OPERATIONS))


@dataclass(frozen=True)
class DemucsBag:
    """A bag of models as its yaml lists them, each with the file to load it from."""

    name: str
    files: tuple[Path, ...]
    weights: list[list[float]] | None
    segment: float | None


def check_demucs(config: DemucsConfig) -> DemucsBag:
    """The bag in `config.model_dir`, after checking every file it lists is there.

    The layout is demucs 4.1's Hugging Face one (demucs/hf.py): `<name>.yaml`
    (`models: [sig, ...]`, optional `weights` and `segment`) beside one
    `<sig>.safetensors` per model; the legacy `<sig>-<checksum>.th` files of
    demucs 4.0 (`--repo` folders) are accepted too.
    """
    engine, setting = config.engine, config.setting
    need_package(engine, "demucs", "the demucs package (4.1)")
    directory = config.model_dir
    if directory is None:
        raise WeightsError(
            f"engine {engine!r} needs {setting}: a local folder with {config.model}.yaml and "
            "its models' .safetensors files (see docs/engines.md, 'Music engines')"
        )
    where = f"{setting}={directory}"
    if not directory.is_dir():
        raise WeightsError(f"engine {engine!r}: {where} is not a directory")
    bag_path = directory / f"{config.model}.yaml"
    if not bag_path.is_file():
        found = ", ".join(sorted(p.name for p in directory.glob("*.yaml"))) or "none"
        raise WeightsError(
            f"engine {engine!r}: {where} has no {bag_path.name} (REELSERVE_DEMUCS_MODEL="
            f"{config.model}; yaml files there: {found})"
        )
    bag = _read_bag(bag_path, engine)
    files: list[Path] = []
    for sig in bag["models"]:
        path = directory / f"{sig}.safetensors"
        legacy = sorted(directory.glob(f"{sig}-*.th"))
        if path.is_file():
            files.append(path)
        elif legacy:
            files.append(legacy[0])
        else:
            raise WeightsError(
                f"engine {engine!r}: weights in {directory} are incomplete: {sig}.safetensors "
                f"is missing (listed in {bag_path.name})"
            )
    weights = bag.get("weights")
    segment = bag.get("segment")
    return DemucsBag(
        name=config.model,
        files=tuple(files),
        weights=[[float(w) for w in row] for row in weights] if weights else None,
        segment=float(segment) if segment is not None else None,
    )


def _read_bag(path: Path, engine: str) -> dict[str, Any]:
    import yaml  # type: ignore[import-untyped]

    try:
        bag = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise WeightsError(f"engine {engine!r}: {path} is unreadable: {exc}") from None
    models = bag.get("models") if isinstance(bag, dict) else None
    if not isinstance(models, list) or not models or not all(isinstance(m, str) for m in models):
        raise WeightsError(f"engine {engine!r}: {path} lists no models (`models: [sig, ...]`)")
    weights = bag.get("weights")
    if weights is not None and (not isinstance(weights, list) or len(weights) != len(models)):
        raise WeightsError(f"engine {engine!r}: {path} has {len(models)} models but its "
                           "`weights` do not have a row per model")  # fmt: skip
    return dict(bag)


def basic_pitch_model(config: BasicPitchConfig) -> Path:
    """The ONNX file the engine loads, after checking it and onnxruntime are there."""
    engine, setting = config.engine, config.setting
    need_package(engine, "onnxruntime", "onnxruntime")
    if config.model is not None:
        if not config.model.is_file():
            raise WeightsError(f"engine {engine!r}: {setting}={config.model} is not a file")
        return config.model
    spec = importlib.util.find_spec("basic_pitch") if installed("basic_pitch") else None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise WeightsError(
            f"engine {engine!r} needs basic-pitch's model: install the basic-pitch package "
            f"without its dependencies (pip install --no-deps 'basic-pitch>=0.4,<0.5'; "
            f"see docs/engines.md) or set {setting} to its nmp.onnx"
        )
    path = Path(locations[0]).joinpath(*BASIC_PITCH_ONNX)
    if not path.is_file():
        raise WeightsError(
            f"engine {engine!r}: the installed basic-pitch package has no {path} "
            f"(basic-pitch 0.4 ships it); set {setting} to an nmp.onnx file"
        )
    return path
