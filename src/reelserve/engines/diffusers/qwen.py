"""`qwen-image`: Qwen-Image (QwenImagePipeline) and Qwen-Image-Edit (QwenImageEditPlusPipeline).

Two checkpoints, either or both, in one child process: text_to_image with
`REELSERVE_QWEN_IMAGE_MODEL_DIR` (Qwen/Qwen-Image), image_to_image with
`REELSERVE_QWEN_IMAGE_EDIT_MODEL_DIR` (Qwen/Qwen-Image-Edit-2509 and later):
every input image is a reference (the Plus pipeline takes several). Guidance
is Qwen's true classifier-free guidance (`true_cfg_scale`, two passes a step
above 1) against a blank negative prompt, as the model cards run it.

The Edit pipeline encodes each reference at a fixed pixel area whatever the
output size: 1024² for the VAE and 384² for the vision-language encoder
(module constants of diffusers' pipeline_qwenimage_edit_plus); the settings
`..._EDIT_REFERENCE_SIZE` / `_CONDITION_SIZE` set them in the child.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reelserve.engines.base import Capability, EngineError
from reelserve.engines.devices import resolve_device
from reelserve.engines.diffusers.config import DiffusersConfig
from reelserve.engines.diffusers.image_runner import (
    ImageEngine,
    ImageRunner,
    checked_index,
    input_images,
)
from reelserve.engines.diffusers.loading import describe, load_pipeline
from reelserve.engines.diffusers.weights import WeightsError
from reelserve.engines.isolated import Generated, Job
from reelserve.settings import Settings

REQUIRED = ("transformer", "vae", "text_encoder", "tokenizer", "scheduler")
EDIT_REQUIRED = (*REQUIRED, "processor")
EDIT_SETTING = "REELSERVE_QWEN_IMAGE_EDIT_MODEL_DIR"


@dataclasses.dataclass(frozen=True)
class QwenImageConfig(DiffusersConfig):
    edit_model_dir: Path | None = None
    reference_size: int = 1024
    condition_size: int = 384


def configure(settings: Settings, config: DiffusersConfig) -> QwenImageConfig:
    return QwenImageConfig(
        **{f.name: getattr(config, f.name) for f in dataclasses.fields(config)},
        edit_model_dir=settings.qwen_image_edit_model_dir,
        reference_size=settings.qwen_image_edit_reference_size,
        condition_size=settings.qwen_image_edit_condition_size,
    )


class QwenImageEngine(ImageEngine):
    name = "qwen-image"
    capabilities = frozenset({Capability.TEXT_TO_IMAGE, Capability.IMAGE_TO_IMAGE})
    description = "Qwen-Image and Qwen-Image-Edit (diffusers) in a child process"
    target = "reelserve.engines.diffusers.qwen:QwenImageRunner"


class QwenTextToImageEngine(QwenImageEngine):
    capabilities = frozenset({Capability.TEXT_TO_IMAGE})


class QwenEditEngine(QwenImageEngine):
    capabilities = frozenset({Capability.IMAGE_TO_IMAGE})


def engine_class(config: DiffusersConfig) -> type[ImageEngine]:
    """Preflight: each configured directory holds its pipeline; the operations follow them."""
    assert isinstance(config, QwenImageConfig)
    if config.model_dir is None and config.edit_model_dir is None:
        raise WeightsError(
            f"engine 'qwen-image' needs {config.setting} (Qwen-Image, text_to_image) or "
            f"{EDIT_SETTING} (Qwen-Image-Edit, image_to_image), or both: local diffusers "
            "directories (see docs/engines.md, 'Image engines')"
        )
    if config.model_dir is not None:
        checked_index(config, REQUIRED, "QwenImagePipeline")
    if config.edit_model_dir is not None:
        edit = dataclasses.replace(config, model_dir=config.edit_model_dir, setting=EDIT_SETTING)
        checked_index(edit, EDIT_REQUIRED, "QwenImageEditPlusPipeline")
    if config.model_dir is None:
        return QwenEditEngine
    return QwenTextToImageEngine if config.edit_model_dir is None else QwenImageEngine


class QwenImageRunner(ImageRunner):
    """Child side: the text-to-image pipeline, the edit pipeline, or both."""

    def __init__(self, config: QwenImageConfig) -> None:
        super().__init__(config)
        self.qwen = config
        self.edit: Any = None

    def load(self) -> dict[str, Any]:
        import diffusers
        from diffusers.pipelines.qwenimage import pipeline_qwenimage_edit_plus as plus

        cfg = self.qwen
        self.pipe = None
        if cfg.model_dir is not None:
            self.pipe = load_pipeline(diffusers.QwenImagePipeline, cfg)
        if cfg.edit_model_dir is not None:
            plus.VAE_IMAGE_SIZE = cfg.reference_size**2
            plus.CONDITION_IMAGE_SIZE = cfg.condition_size**2
            edit = dataclasses.replace(cfg, model_dir=cfg.edit_model_dir)
            self.edit = load_pipeline(diffusers.QwenImageEditPlusPipeline, edit)
        self.loads += 1
        main = self.pipe if self.pipe is not None else self.edit
        info = describe(main, resolve_device(cfg.device))
        info["loads"] = self.loads
        info["edit_pipeline"] = type(self.edit).__name__ if self.edit is not None else None
        return info

    def guidance(self) -> dict[str, Any]:
        return {"true_cfg_scale": self.config.guidance, "negative_prompt": " "}

    def generate(
        self, job: Job, progress: Callable[[float], None], stopped: Callable[[], bool]
    ) -> Generated:
        from PIL import Image

        extra: dict[str, Any] = {}
        if job.operation == Capability.IMAGE_TO_IMAGE.value:
            if self.edit is None:
                raise EngineError(f"qwen-image has no {EDIT_SETTING}: no image edits", 400)
            references = input_images(job)
            if not references:
                raise EngineError("image_to_image needs an input image", 400)
            extra["image"] = [Image.fromarray(r) for r in references]
            pipe = self.edit
        elif job.operation == Capability.TEXT_TO_IMAGE.value and self.pipe is not None:
            pipe = self.pipe
        else:
            raise EngineError(f"qwen-image does not do {job.operation} here", 400)
        width, height = self.size(job, pipe)
        images, elapsed = self.images(
            job, progress, stopped, pipe=pipe, width=width, height=height, **extra
        )
        return Generated(images, 0.0, elapsed)
