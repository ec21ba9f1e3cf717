"""`wan`: Wan 2.1 / 2.2 through diffusers.

- text_to_video: WanPipeline.
- video_to_video (Aleph): WanVideoToVideoPipeline, `REELSERVE_WAN_STRENGTH`.
- image_to_video: only for checkpoints that condition on the image without a
  CLIP image encoder, i.e. Wan 2.2 TI2V (`expand_timesteps: true` in
  model_index.json), through WanImageToVideoPipeline. Wan 2.1 I2V checkpoints
  (CLIP encoder, separate weights) are not supported: giving `wan`
  image_to_video with another checkpoint is a start-up error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reelserve.engines.base import Capability, EngineError
from reelserve.engines.diffusers.config import DiffusersConfig
from reelserve.engines.diffusers.runner import DiffusersRunner
from reelserve.engines.diffusers.sizing import (
    ceil_frames,
    fit_video,
    floor_frames,
    generation_frames,
    native_size,
)
from reelserve.engines.isolated import Generated, IsolatedEngine, Job

REQUIRED = ("vae", "text_encoder", "tokenizer", "scheduler")
RUNNER = "reelserve.engines.diffusers.wan:WanRunner"


class WanEngine(IsolatedEngine):
    name = "wan"
    capabilities = frozenset({Capability.TEXT_TO_VIDEO, Capability.VIDEO_TO_VIDEO})
    description = "Wan (diffusers WanPipeline, WanVideoToVideoPipeline) in a child process"

    def __init__(self, config: DiffusersConfig) -> None:
        super().__init__(RUNNER, config)


class WanTi2vEngine(WanEngine):
    """A Wan 2.2 TI2V checkpoint: image_to_video as well."""

    capabilities = frozenset(
        {Capability.TEXT_TO_VIDEO, Capability.VIDEO_TO_VIDEO, Capability.IMAGE_TO_VIDEO}
    )


def wan_engine_class(config: DiffusersConfig, index: dict[str, Any]) -> type[WanEngine]:
    """The engine class the checkpoint supports (`index`: its model_index.json).

    Raises `WeightsError` at start-up when REELSERVE_ENGINES gives `wan` an
    operation the checkpoint cannot do (image_to_video without TI2V).
    """
    from reelserve.engines.diffusers.weights import WeightsError

    if not any(index.get(name, [None])[0] for name in ("transformer", "transformer_2")):
        raise WeightsError(
            f"engine 'wan': {config.model_dir}/model_index.json lists no transformer"
        )
    cls = WanTi2vEngine if index.get("expand_timesteps") else WanEngine
    unsupported = [op for op in config.operations if Capability(op) not in cls.capabilities]
    if unsupported:
        raise WeightsError(
            f"engine 'wan': REELSERVE_ENGINES gives it {', '.join(unsupported)}, which the "
            f"checkpoint in {config.model_dir} cannot do (image_to_video needs a Wan 2.2 "
            "TI2V checkpoint, model_index.json 'expand_timesteps': true)"
        )
    return cls


class WanRunner(DiffusersRunner):
    pipeline_class = "WanPipeline"

    def prepare(self) -> None:
        from diffusers import (
            UniPCMultistepScheduler,
            WanImageToVideoPipeline,
            WanVideoToVideoPipeline,
        )

        pipe = self.pipe
        scheduler = pipe.scheduler
        if not isinstance(scheduler, UniPCMultistepScheduler):
            # Video-to-video starts part-way through the schedule; Wan's own
            # UniPC flow scheduler is what its examples use for it.
            scheduler = UniPCMultistepScheduler(  # type: ignore[no-untyped-call]
                prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0
            )
        self.v2v = WanVideoToVideoPipeline.from_pipe(pipe, scheduler=scheduler)
        self.i2v = WanImageToVideoPipeline.from_pipe(pipe) if pipe.config.expand_timesteps else None
        for extra in (self.v2v, self.i2v):
            if extra is not None:
                extra.set_progress_bar_config(disable=True)

    def generate(
        self, job: Job, progress: Callable[[float], None], stopped: Callable[[], bool]
    ) -> Generated:
        from PIL import Image

        pipe = self.pipe
        cfg = self.config
        ratio = int(pipe.vae_scale_factor_temporal)
        multiple = int(pipe.vae_scale_factor_spatial) * 2  # the transformer's 2×2 patches
        width, height = native_size(job.width, job.height, cfg.width, cfg.height, multiple)
        seconds = job.num_frames / job.fps
        num_frames = generation_frames(seconds, cfg.fps, cfg.num_frames, ratio)
        common: dict[str, Any] = {"width": width, "height": height}
        fps = float(cfg.fps)
        if job.operation == Capability.TEXT_TO_VIDEO.value:
            target, common["num_frames"] = pipe, num_frames
        elif job.operation == Capability.IMAGE_TO_VIDEO.value:
            image = job.frames("image")
            if self.i2v is None:
                raise EngineError(
                    "this Wan checkpoint has no image_to_video (needs Wan 2.2 TI2V)", 400
                )
            if image is None:
                raise EngineError("image_to_video needs a conditioning image", 400)
            (first,) = fit_video(image[None], 1, width, height)
            target = self.i2v
            common.update(image=Image.fromarray(first), num_frames=num_frames)
        elif job.operation == Capability.VIDEO_TO_VIDEO.value:
            video = job.frames("video")
            if video is None or not len(video):
                raise EngineError("video_to_video needs a non-empty source video", 400)
            # The whole source, at (about) our fps, as r·k+1 frames.
            count = min(
                floor_frames(cfg.num_frames, ratio),
                ceil_frames(round(len(video) * cfg.fps / job.fps), ratio),
            )
            frames = fit_video(video, count, width, height)
            fps = count * job.fps / len(video)
            target = self.v2v
            common.update(video=[Image.fromarray(f) for f in frames], strength=cfg.strength)
        else:
            raise EngineError(f"wan does not do {job.operation}", 400)
        frames_out, elapsed = self.call(target, job, progress, stopped, **common)
        return Generated(frames_out, fps, elapsed)
