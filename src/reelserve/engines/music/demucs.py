"""`demucs`: stem separation with Demucs v4 (HTDemucs), kept resident in a child process.

separate_stems, `params.mode`:
- "separate_vocal": vocals, and instrumental = the sum of the other sources
  (what `demucs --two-stems vocals` writes);
- "split_stem": every source of the model, by its own name: drums, bass,
  other, vocals (htdemucs, htdemucs_ft), plus guitar and piano (htdemucs_6s).
  "other" is what the model could not place: Suno's record has no URL key
  for it, so it is listed in `originData` only.

The track is converted to the model's rate and channels, normalised by the
mix's mean and deviation as demucs' own `Separator` does, and run through
`demucs.apply.apply_model` (segments with overlap, `shifts` random shifts,
seeded from the task's seed); progress comes from apply_model's per-segment
callback, which also stops a run when the engine is interrupted.

The child-process machinery is `IsolatedEngine`'s (a crash fails the task and
restarts the child); audio goes through `.npy`/`.npz` files beside the job,
not through the pipe (see `DemucsEngine.run`).
"""

from __future__ import annotations

import functools
import json
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from reelserve.engines import devices
from reelserve.engines.base import (
    Audio,
    Capability,
    EngineError,
    EngineRequest,
    ProgressFn,
    StemsOutput,
)
from reelserve.engines.isolated import Generated, Interrupted, IsolatedEngine, Job
from reelserve.engines.music.config import DemucsConfig
from reelserve.engines.music.weights import check_demucs

SEPARATE_VOCAL = "separate_vocal"
SPLIT_STEM = "split_stem"
MODES = (SEPARATE_VOCAL, SPLIT_STEM)
STEMS_FILE = "stems.npz"

resolve_device = functools.partial(devices.resolve_device, env="REELSERVE_DEMUCS_DEVICE")
"""The device `REELSERVE_DEMUCS_DEVICE` names, checked (engines/devices.py)."""


class DemucsEngine(IsolatedEngine):
    name = "demucs"
    capabilities = frozenset({Capability.SEPARATE_STEMS})
    description = "Demucs v4 (HTDemucs) stem separation in a child process"

    def __init__(self, config: DemucsConfig) -> None:
        super().__init__("reelserve.engines.music.demucs:DemucsRunner", config)

    def run(self, request: EngineRequest, progress: ProgressFn) -> StemsOutput:  # type: ignore[override]
        audio = request.audio if request.audio is not None else next(iter(request.clips), None)
        if audio is None or len(audio.samples) == 0:
            raise EngineError("separate_stems needs a track to separate", 400)
        mode = str(request.params.get("mode") or SEPARATE_VOCAL)
        if mode not in MODES:
            raise EngineError(f"unknown separation mode {mode!r}; expected one of {MODES}", 400)
        with self._lock:
            self._ensure_ready()
            job_dir = Path(tempfile.mkdtemp(dir=self._tmp, prefix="job-"))
            try:
                job = _job(request, audio, mode, job_dir)
                self._interrupt.clear()
                self.stats.progress = 0.0
                assert self._conn is not None
                self._conn.send(("run", job))
                _, _, pipeline_s = self._await_result(progress)
                stems = _read_stems(job_dir)
            finally:
                shutil.rmtree(job_dir, ignore_errors=True)
        self.stats.runs += 1
        self.stats.last_pipeline_s = pipeline_s
        self.stats.total_pipeline_s += pipeline_s
        return StemsOutput(stems)


def _job(request: EngineRequest, audio: Audio, mode: str, job_dir: Path) -> Job:
    samples = audio.samples if audio.samples.ndim == 2 else audio.samples[:, None]
    np.save(job_dir / "audio.npy", np.ascontiguousarray(samples, dtype=np.float32))
    (job_dir / "params.json").write_text(
        json.dumps({"mode": mode, "sample_rate": audio.sample_rate})
    )
    return Job(
        operation=request.operation.value,
        prompt="",
        width=0,
        height=0,
        num_frames=0,
        fps=0,
        seed=request.seed,
        inputs={"audio": str(job_dir / "audio.npy"), "params": str(job_dir / "params.json")},
        output=str(job_dir / "output.npy"),
    )


def _read_stems(job_dir: Path) -> dict[str, Audio]:
    names = json.loads((job_dir / "stems.json").read_text())
    rate = int(names.pop())
    with np.load(job_dir / STEMS_FILE) as data:
        return {str(n): Audio(np.array(data[n], dtype=np.float32), rate) for n in names}


# -- the child ------------------------------------------------------------------------


def autocast_dtype(setting: str) -> Any:
    """None (full float32) for `auto`/`float32`, else the torch dtype to autocast to."""
    import torch

    return None if setting in ("auto", "float32") else getattr(torch, setting)


def load_bag(config: DemucsConfig) -> Any:
    """The BagOfModels `config` names, loaded from local files only (nothing from a hub)."""
    from demucs.apply import BagOfModels
    from demucs.hf import load_safetensors_model
    from demucs.states import load_model as legacy

    load_model: Any = legacy  # demucs 4.0 .th files (untyped)
    bag = check_demucs(config)
    models = [
        load_safetensors_model(path) if path.suffix == ".safetensors" else load_model(path)
        for path in bag.files
    ]
    return BagOfModels(models, bag.weights, bag.segment)


class DemucsRunner:
    """Child-side: `load()` reads the bag once; `generate()` separates one track."""

    def __init__(self, config: DemucsConfig) -> None:
        self.config = config
        self.model: Any = None
        self.device: Any = None
        self.loads = 0

    def load(self) -> dict[str, Any]:
        self.device = resolve_device(self.config.device)
        self.model = load_bag(self.config)
        self.model.to(self.device)
        self.model.eval()
        self.loads += 1
        models = list(self.model.models)
        cast = autocast_dtype(self.config.dtype)
        return {
            "pipeline": "+".join(sorted({type(m).__name__ for m in models})),
            "device": str(self.device),
            "dtype": str(next(self.model.parameters()).dtype).removeprefix("torch."),
            "autocast": str(cast).removeprefix("torch.") if cast is not None else None,
            "parameters": sum(p.numel() for p in self.model.parameters()),
            "models": len(models),
            "sources": list(self.model.sources),
            "sample_rate": int(self.model.samplerate),
            "segment_s": self._segment(),
            "shifts": self.config.shifts,
            "loads": self.loads,
        }

    def _segment(self) -> float:
        if self.config.segment_s is not None:
            return float(self.config.segment_s)
        return min(float(m.segment) for m in self.model.models)

    def _segments(self, length: int) -> int:
        """How many model calls apply_model makes for `length` samples (for progress)."""
        rate = int(self.model.samplerate)
        total = 0
        for model in self.model.models:
            seconds = self.config.segment_s or float(model.segment)
            segment = int(rate * seconds)
            stride = max(1, int((1 - self.config.overlap) * segment))
            padded = length + (int(0.5 * rate) if self.config.shifts else 0)
            total += max(1, self.config.shifts) * len(range(0, padded, stride))
        return max(1, total)

    def generate(
        self, job: Job, progress: Callable[[float], None], stopped: Callable[[], bool]
    ) -> Generated:
        import torch
        from demucs.apply import apply_model
        from demucs.audio import convert_audio

        params = json.loads(Path(job.inputs["params"]).read_text())
        samples = np.load(job.inputs["audio"])
        model = self.model
        rate = int(model.samplerate)
        wav = torch.from_numpy(np.ascontiguousarray(samples.T, dtype=np.float32))
        wav = convert_audio(wav, int(params["sample_rate"]), rate, int(model.audio_channels))
        expected = self._segments(wav.shape[-1])
        done = 0

        def callback(state: dict[str, Any]) -> None:
            nonlocal done
            if stopped():
                raise Interrupted()
            if state.get("state") == "end":
                done += 1
                progress(min(0.99, done / expected))

        ref = wav.mean(0)
        mean, std = ref.mean(), ref.std() + 1e-8
        cast = autocast_dtype(self.config.dtype)
        random.seed(job.seed)  # apply_model's shifts come from `random`
        started = time.perf_counter()
        with (
            torch.inference_mode(),
            torch.autocast(self.device.type, dtype=cast, enabled=cast is not None),
        ):
            out = apply_model(
                model,
                ((wav - mean) / std)[None],
                shifts=self.config.shifts,
                split=True,
                overlap=self.config.overlap,
                progress=False,
                device=self.device,
                segment=self.config.segment_s,
                callback=callback,
            )
        elapsed = time.perf_counter() - started
        if stopped():
            raise Interrupted()
        sources = (out[0].float() * std + mean).cpu().numpy()  # (sources, channels, n)
        stems = split(dict(zip(model.sources, sources, strict=True)), str(params["mode"]))
        out_dir = Path(job.output).parent
        savez: Any = np.savez
        savez(out_dir / STEMS_FILE, **{k: v.T for k, v in stems.items()})
        (out_dir / "stems.json").write_text(json.dumps([*stems, rate]))
        progress(1.0)
        return Generated(np.zeros((len(stems), 0, 0, 3), np.uint8), float(rate), elapsed)


def split(sources: dict[str, np.ndarray], mode: str) -> dict[str, np.ndarray]:
    """The stems of `mode` from the model's sources (each (channels, n) float32)."""
    if mode == SPLIT_STEM:
        return {name: np.asarray(audio, np.float32) for name, audio in sources.items()}
    if "vocals" not in sources:
        raise EngineError(
            f"the demucs model has no vocals source (it has {', '.join(sources)}), "
            "so it cannot separate_vocal"
        )
    rest = sum(audio for name, audio in sources.items() if name != "vocals")
    return {
        "vocals": np.asarray(sources["vocals"], np.float32),
        "instrumental": np.asarray(rest, np.float32),
    }
