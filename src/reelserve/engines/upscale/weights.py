"""Checking the `swin2sr` engine's files before anything loads them (no torch, no transformers).

A server routed to `swin2sr` whose folder is missing or incomplete refuses to
start and says what is missing (like the other engines), instead of failing
its first task. The layout is what `save_pretrained` writes and the Hub's
`caidas/swin2SR-*` repositories hold: config.json, the weights
(model.safetensors or pytorch_model.bin, or a sharded index) and
preprocessor_config.json.
"""

from __future__ import annotations

from typing import Any

from reelserve.engines.diffusers.weights import WeightsError
from reelserve.engines.model_folder import check_weight_files, model_folder, read_json
from reelserve.engines.music.weights import need_package
from reelserve.engines.upscale.config import Swin2SRConfig

SCALES = (2, 3, 4, 8)


def check_swin2sr(config: Swin2SRConfig) -> dict[str, Any]:
    """The model's config.json, after checking the folder holds a complete Swin2SR."""
    engine, setting = config.engine, config.setting
    need_package(engine, "transformers", "the transformers package")
    directory, where = model_folder(
        config.model_dir,
        engine,
        setting,
        "a local folder with config.json, the weights and preprocessor_config.json of a "
        "Swin2SR model, e.g. caidas/swin2SR-classical-sr-x2-64 (see docs/engines.md, 'swin2sr')",
    )
    model = read_json(directory / "config.json", engine, where)
    kind = model.get("model_type")
    if kind != "swin2sr":
        raise WeightsError(
            f"engine {engine!r}: {where} holds a {kind or 'model without a model_type'} "
            "(config.json); it needs a swin2sr model"
        )
    if int(model.get("upscale", 0) or 0) not in SCALES:
        raise WeightsError(
            f"engine {engine!r}: {where}: config.json's upscale is {model.get('upscale')!r}, "
            f"expected one of {SCALES}"
        )
    check_weight_files(directory, engine, where)
    read_json(directory / "preprocessor_config.json", engine, where)
    return model
