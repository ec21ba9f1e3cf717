"""The per-step hook: denoising progress out, interruption in (diffusers callback_on_step_end)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

DENOISE_SHARE = 0.9
"""Of an engine's progress, the part the denoising steps take; decoding is the rest."""


def step_callback(
    steps: int, progress: Callable[[float], None], stopped: Callable[[], bool]
) -> Callable[..., dict[str, Any]]:
    """A `callback_on_step_end` reporting progress and setting `pipe._interrupt` when stopped.

    Setting `_interrupt` makes the pipeline skip the remaining steps (every
    diffusers video pipeline checks `self.interrupt` at the top of its loop).
    """

    def callback(pipe: Any, step: int, timestep: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        progress(DENOISE_SHARE * min(1.0, (step + 1) / max(1, steps)))
        if stopped():
            pipe._interrupt = True
        return {}

    return callback
