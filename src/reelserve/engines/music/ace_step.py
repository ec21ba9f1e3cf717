"""`ace-step`: songs with sung lyrics from ACE-Step 1.5 (diffusers' AceStepPipeline).

text_to_music (custom and non-custom mode, instrumentals, Suno's sounds),
extend_music, replace_section, cover_music, add_vocals and add_instrumental,
each as one pipeline call per track (`ace_step_plan` says which task type and
what is kept from the source). The pipeline lives in a child process
(`IsolatedEngine`: loaded once, restarted after a crash, interrupted at the
next denoising step); the source audio and the song go through `.npy` files
beside the job, never through the pipe.

Tracks are rendered one at a time as the server consumes them, so Suno's
`first` callback comes after the first track. ACE-Step gives no word
timings: a track's `words` are empty (timestamped lyrics report none rather
than invented ones), and its cover art is the server's default.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from reelserve.engines.base import (
    EngineError,
    EngineRequest,
    MusicOutput,
    ProgressFn,
    Track,
)
from reelserve.engines.devices import resolve_device
from reelserve.engines.diffusers.loading import describe, load_pipeline
from reelserve.engines.diffusers.steps import step_callback
from reelserve.engines.isolated import Generated, Interrupted, IsolatedEngine, Job
from reelserve.engines.music.ace_step_plan import BASE_ONLY, OPERATIONS, AcePlan, finish, plan
from reelserve.engines.music.config import AceStepConfig

PIPELINE = "AceStepPipeline"
BLOCK = "AceStepTransformerBlock"
"""The transformer's repeated block (regional compilation compiles it once for every layer)."""
SONG_FILE = "song.npy"


class AceStepEngine(IsolatedEngine):
    name = "ace-step"
    capabilities = OPERATIONS
    description = "ACE-Step 1.5 (diffusers AceStepPipeline) songs in a child process"

    def __init__(self, config: AceStepConfig) -> None:
        super().__init__("reelserve.engines.music.ace_step:AceStepRunner", config)
        self.config = config

    def run(self, request: EngineRequest, progress: ProgressFn) -> MusicOutput:  # type: ignore[override]
        song = plan(request, self.config.cover_strength)
        if song.call.task_type in BASE_ONLY and self.stats.info.get("turbo"):
            raise EngineError(_base_only(request.operation.value, song.call.task_type), 400)
        return MusicOutput([song.sheet] * request.count, self._tracks(request, song, progress))

    def _tracks(
        self, request: EngineRequest, song: AcePlan, progress: ProgressFn
    ) -> Iterator[Track]:
        for k in range(request.count):
            seed = request.seed + k

            def part(fraction: float, k: int = k) -> None:
                progress((k + fraction) / request.count)

            _, job_dir, _, rate = self._execute(functools.partial(_job, song, seed), part)
            try:
                generated = np.load(job_dir / SONG_FILE)
            finally:
                shutil.rmtree(job_dir, ignore_errors=True)
            audio = finish(song, generated, int(rate), request.duration_s, request.sample_rate)
            call = {name: v for name, v in song.call.arguments().items() if name != "lyrics"}
            recipe = {"engine": self.name, "seed": seed, "steps": self.config.pipeline.steps}
            yield Track(audio=audio, recipe={**recipe, **call})


def _base_only(operation: str, task_type: str) -> str:
    return (
        f"{operation} on ace-step uses ACE-Step's {task_type!r} task, which only a base DiT "
        "does; the loaded checkpoint is a turbo one (see docs/engines.md, 'ace-step')"
    )


def _job(song: AcePlan, seed: int, job_dir: Path) -> Job:
    inputs = {"call": str(job_dir / "call.json")}
    (job_dir / "call.json").write_text(json.dumps(song.call.arguments()))
    if song.source is not None:
        np.save(job_dir / "audio.npy", np.ascontiguousarray(song.source.samples.T, np.float32))
        inputs["audio"] = str(job_dir / "audio.npy")
    return Job(
        operation=song.call.task_type,
        prompt=song.call.caption,
        width=0,
        height=0,
        num_frames=0,
        fps=0,
        seed=seed,
        inputs=inputs,
        output=str(job_dir / "output.npy"),
    )


# -- the child ------------------------------------------------------------------------


class AceStepRunner:
    """Child-side: `load()` builds the pipeline once; `generate()` makes one track."""

    def __init__(self, config: AceStepConfig) -> None:
        self.config = config
        self.pipe: Any = None
        self.loads = 0

    def load(self) -> dict[str, Any]:
        import diffusers

        settings = self.config.pipeline
        # ACE-Step's transformer names no repeated block of its own; name it, then compile.
        self.pipe = load_pipeline(
            getattr(diffusers, PIPELINE), dataclasses.replace(settings, compile=False)
        )
        self.pipe.transformer._repeated_blocks = [BLOCK]
        if settings.compile:
            self.pipe.transformer.compile_repeated_blocks(fullgraph=True)
        self.loads += 1
        info = describe(self.pipe, resolve_device(settings.device))
        info.update(
            loads=self.loads,
            turbo=bool(self.pipe.is_turbo),
            sample_rate=int(self.pipe.sample_rate),
            steps=settings.steps,
        )
        return info

    def generate(
        self, job: Job, progress: Callable[[float], None], stopped: Callable[[], bool]
    ) -> Generated:
        import torch

        args = json.loads(Path(job.inputs["call"]).read_text())
        if args["task_type"] in BASE_ONLY and self.pipe.is_turbo:
            raise EngineError(_base_only(args["task_type"], args["task_type"]), 400)
        source = job.frames("audio")
        if source is not None:
            args["src_audio"] = torch.from_numpy(np.array(source, dtype=np.float32))
        steps = self.config.pipeline.steps
        # The VAE encodes a source by sampling from the global RNG, not `generator`.
        torch.manual_seed(job.seed)
        self.pipe._interrupt = False
        started = time.perf_counter()
        with torch.inference_mode():
            output = self.pipe(
                **args,
                num_inference_steps=steps,
                guidance_scale=self.config.pipeline.guidance,
                shift=self.config.shift,
                vocal_language=self.config.language,
                generator=torch.Generator("cpu").manual_seed(job.seed),
                output_type="np",
                callback_on_step_end=step_callback(steps, progress, stopped),
            )
        elapsed = time.perf_counter() - started
        if stopped() or getattr(self.pipe, "_interrupt", False):
            raise Interrupted()
        audio = np.asarray(output.audios[0], dtype=np.float32)  # (channels, samples)
        if not np.isfinite(audio).all():
            raise EngineError("ace-step made audio with NaN or infinite samples")
        np.save(Path(job.output).parent / SONG_FILE, audio)
        progress(1.0)
        return Generated(np.zeros((1, 0, 0, 3), np.uint8), float(self.pipe.sample_rate), elapsed)
