"""`ltx-video`: LTX-Video through diffusers' LTXConditionPipeline.

One pipeline serves all three operations: no condition (text_to_video), the
image at frame 0 (image_to_video), or the parent's last r·k+1 frames at frame
0 (extend: the overlap is dropped from the output and the server joins the
rest after the parent, encoding once).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from reelserve.engines.base import Capability, EngineError
from reelserve.engines.diffusers.config import DiffusersConfig
from reelserve.engines.diffusers.runner import DiffusersRunner
from reelserve.engines.diffusers.sizing import (
    fit_video,
    floor_frames,
    generation_frames,
    native_size,
)
from reelserve.engines.isolated import Generated, IsolatedEngine, Job

REQUIRED = ("transformer", "vae", "text_encoder", "tokenizer", "scheduler")
SIZE_MULTIPLE = 32
"""LTX's VAE compresses 32×32 pixels into one latent: sides must be multiples of 32."""


class LtxEngine(IsolatedEngine):
    name = "ltx-video"
    capabilities = frozenset(
        {Capability.TEXT_TO_VIDEO, Capability.IMAGE_TO_VIDEO, Capability.EXTEND}
    )
    description = "LTX-Video (diffusers LTXConditionPipeline) in a child process"

    def __init__(self, config: DiffusersConfig) -> None:
        super().__init__("reelserve.engines.diffusers.ltx:LtxRunner", config)


class LtxRunner(DiffusersRunner):
    pipeline_class = "LTXConditionPipeline"

    def generate(
        self, job: Job, progress: Callable[[float], None], stopped: Callable[[], bool]
    ) -> Generated:
        from PIL import Image

        from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

        pipe = self.pipe
        cfg = self.config
        ratio = int(pipe.vae_temporal_compression_ratio)
        width, height = native_size(job.width, job.height, cfg.width, cfg.height, SIZE_MULTIPLE)
        seconds = job.num_frames / job.fps
        overlap = 0
        conditions: list[Any] = []
        if job.operation == Capability.IMAGE_TO_VIDEO.value:
            image = job.frames("image")
            if image is None:
                raise EngineError("image_to_video needs a conditioning image", 400)
            (first,) = fit_video(image[None], 1, width, height)
            conditions.append(LTXVideoCondition(image=Image.fromarray(first), frame_index=0))
            num_frames = generation_frames(seconds, cfg.fps, cfg.num_frames, ratio)
        elif job.operation == Capability.EXTEND.value:
            context = job.frames("context")
            if context is None:
                image = job.frames("image")
                if image is None:
                    raise EngineError("extend needs the parent's last frames", 400)
                context = image[None]
            # The parent is at the server's fps; condition on its tail at ours.
            tail = max(1, round(len(context) * cfg.fps / job.fps))
            overlap = floor_frames(tail, ratio)
            num_frames = generation_frames(
                seconds + overlap / cfg.fps, cfg.fps, cfg.num_frames, ratio
            )
            # Leave at least one latent frame of new video.
            overlap = min(overlap, floor_frames(num_frames - ratio, ratio))
            start = len(context) - round(overlap * job.fps / cfg.fps)
            frames = fit_video(context[max(0, start) :], overlap, width, height)
            video = [Image.fromarray(f) for f in frames]
            conditions.append(LTXVideoCondition(video=video, frame_index=0))
        elif job.operation == Capability.TEXT_TO_VIDEO.value:
            num_frames = generation_frames(seconds, cfg.fps, cfg.num_frames, ratio)
        else:
            raise EngineError(f"ltx-video does not do {job.operation}", 400)
        extra: dict[str, Any] = {}
        if conditions:
            extra["conditions"] = conditions
        if getattr(pipe.vae.config, "timestep_conditioning", False):
            # LTX 0.9.1+ VAEs denoise while decoding; these are the published settings.
            extra.update(decode_timestep=0.05, decode_noise_scale=0.025)
        frames_out, elapsed = self.call(
            pipe,
            job,
            progress,
            stopped,
            width=width,
            height=height,
            num_frames=num_frames,
            frame_rate=cfg.fps,
            **extra,
        )
        return Generated(np.ascontiguousarray(frames_out[overlap:]), float(cfg.fps), elapsed)
