"""What the LTX and Wan runners share: loading once, one call per job, timing, interruption."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from reelserve.engines.devices import resolve_device
from reelserve.engines.diffusers.config import DiffusersConfig
from reelserve.engines.diffusers.loading import describe, load_pipeline
from reelserve.engines.diffusers.sizing import to_uint8
from reelserve.engines.diffusers.steps import step_callback
from reelserve.engines.isolated import Generated, Interrupted, Job


class DiffusersRunner:
    """Child-side base: `load()` builds `self.pipe` once; `call()` runs one pipeline call."""

    pipeline_class: str = ""

    def __init__(self, config: DiffusersConfig) -> None:
        self.config = config
        self.pipe: Any = None
        self.loads = 0

    def load(self) -> dict[str, Any]:
        import diffusers

        self.pipe = load_pipeline(getattr(diffusers, self.pipeline_class), self.config)
        self.loads += 1
        self.prepare()
        info = describe(self.pipe, resolve_device(self.config.device))
        info["loads"] = self.loads
        return info

    def prepare(self) -> None:
        """Build the other pipelines of the same components (`from_pipe`: no new weights)."""

    def generator(self, seed: int) -> Any:
        import torch

        # A CPU generator gives the same noise on any device, so a seed means
        # the same video on every host.
        return torch.Generator("cpu").manual_seed(seed)

    def call(
        self,
        pipe: Any,
        job: Job,
        progress: Callable[[float], None],
        stopped: Callable[[], bool],
        **kwargs: Any,
    ) -> tuple[np.ndarray, float]:
        """Run `pipe` for `job`; uint8 frames (F, H, W, 3) and the seconds the call took."""
        import torch

        steps = int(kwargs.pop("num_inference_steps", self.config.steps))
        started = time.perf_counter()
        with torch.inference_mode():
            output = pipe(
                prompt=job.prompt,
                num_inference_steps=steps,
                guidance_scale=self.config.guidance,
                negative_prompt=self.config.negative_prompt or None,
                generator=self.generator(job.seed),
                output_type="np",
                # Video-to-video runs only the last `strength` of the schedule.
                callback_on_step_end=step_callback(
                    max(1, int(steps * float(kwargs.get("strength", 1.0)))), progress, stopped
                ),
                **kwargs,
            )
        elapsed = time.perf_counter() - started
        if stopped() or getattr(pipe, "_interrupt", False):
            raise Interrupted()
        progress(1.0)
        return to_uint8(output.frames[0]), elapsed

    def generate(
        self, job: Job, progress: Callable[[float], None], stopped: Callable[[], bool]
    ) -> Generated:
        raise NotImplementedError
