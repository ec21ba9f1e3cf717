"""The `rembg` engine's child side: open the rembg session once, cut out image by image."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from reelserve.engines.base import EngineError
from reelserve.engines.isolated import Generated, Interrupted, Job
from reelserve.engines.matting.config import RembgConfig
from reelserve.engines.matting.engine import input_name, result_file
from reelserve.engines.matting.weights import CUSTOM_SESSIONS, check_provider, check_rembg


def new_session(config: RembgConfig) -> Any:
    """rembg's session over `config.model`, offline, with the device's provider and threads.

    rembg finds a named session's file as `<U2NET_HOME>/<name>.onnx` and accepts a
    custom session's `model_path` only inside U2NET_HOME, so U2NET_HOME is the file's
    folder (in this child only); a file that is there is never downloaded nor checked.
    """
    import onnxruntime  # type: ignore[import-untyped]
    import rembg  # type: ignore[import-untyped]

    check_rembg(config)
    assert config.model is not None  # checked by check_rembg
    model = config.model.resolve()
    os.environ["U2NET_HOME"] = str(model.parent)
    os.environ.setdefault("MODEL_CHECKSUM_DISABLED", "1")
    provider = check_provider(config)
    options = onnxruntime.SessionOptions()
    if config.threads:
        options.intra_op_num_threads = config.threads
        options.inter_op_num_threads = 1
    extra: dict[str, Any] = {"providers": [provider]}
    if provider != "CPUExecutionProvider":
        extra["providers"] = [provider, "CPUExecutionProvider"]
    if config.session in CUSTOM_SESSIONS:
        extra["model_path"] = str(model)
    session = rembg.new_session(config.session, sess_opts=options, **extra)
    active = session.inner_session.get_providers()
    if active[0] != provider:
        raise EngineError(
            f"REELSERVE_REMBG_DEVICE={config.device!r}: onnxruntime could not use {provider} "
            f"(the session runs on {', '.join(active)}; missing CUDA/cuDNN libraries?)"
        )
    return session


def cut_out(session: Any, image: np.ndarray, alpha_matting: bool) -> np.ndarray:
    """(h, w, 3|4) uint8 -> (h, w, 4) uint8: rembg's cut-out; an input alpha caps the mask."""
    from PIL import Image
    from rembg import remove

    source = Image.fromarray(np.ascontiguousarray(image[:, :, :3]))
    # putalpha: the input's colours with the mask as alpha (rembg's default cut-out blends
    # the colours towards black where the mask is soft). Alpha matting returns its own
    # estimated foreground colours.
    result = remove(source, session=session, alpha_matting=alpha_matting, putalpha=True)
    out = np.array(result.convert("RGBA"), dtype=np.uint8)
    if out.shape[:2] != image.shape[:2]:
        raise EngineError(
            f"rembg returned {out.shape[1]}x{out.shape[0]} for a "
            f"{image.shape[1]}x{image.shape[0]} image"
        )
    if image.shape[2] == 4:
        out[:, :, 3] = np.minimum(out[:, :, 3], image[:, :, 3])
    return out


class RembgRunner:
    """Child-side: `load()` opens the session once; `generate()` cuts out one job's images."""

    def __init__(self, config: RembgConfig) -> None:
        self.config = config
        self.session: Any = None
        self.loads = 0

    def load(self) -> dict[str, Any]:
        self.session = new_session(self.config)
        self.loads += 1
        inner = self.session.inner_session
        options = inner.get_session_options()
        assert self.config.model is not None
        return {
            "pipeline": type(self.session).__name__,
            "device": self.config.device,
            "dtype": inner.get_inputs()[0].type.removeprefix("tensor(").rstrip(")"),
            "session": self.config.session,
            "model": self.config.model.name,
            "providers": list(inner.get_providers()),
            "threads": int(options.intra_op_num_threads),
            "alpha_matting": self.config.alpha_matting,
            "loads": self.loads,
        }

    def generate(
        self, job: Job, progress: Callable[[float], None], stopped: Callable[[], bool]
    ) -> Generated:
        count = job.num_frames
        job_dir = Path(job.output).parent
        started = time.perf_counter()
        progress(0.0)
        for index in range(count):
            if stopped():
                raise Interrupted()
            image = job.frames(input_name(index))
            assert image is not None
            out = cut_out(self.session, np.asarray(image), self.config.alpha_matting)
            np.save(result_file(job_dir, index), out)
            progress(min(0.99, (index + 1) / count))
        elapsed = time.perf_counter() - started
        progress(1.0)
        return Generated(np.zeros((0, 0, 0, 4), np.uint8), 0.0, elapsed)
