"""The `swin2sr` engine's child side: load the model once, upscale frame by frame, in tiles."""

from __future__ import annotations

import functools
import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from reelserve.engines import devices
from reelserve.engines.isolated import Generated, Interrupted, Job
from reelserve.engines.upscale.config import Swin2SRConfig
from reelserve.engines.upscale.swin2sr import FRAMES_FILE
from reelserve.engines.upscale.weights import check_swin2sr

resolve_device = functools.partial(devices.resolve_device, env="REELSERVE_SWIN2SR_DEVICE")
"""The device `REELSERVE_SWIN2SR_DEVICE` names, checked (engines/devices.py)."""


def resolve_dtype(setting: str) -> Any:
    """`auto` -> float32 (Swin2SR is published in float32; half precision is unmeasured)."""
    import torch

    return torch.float32 if setting == "auto" else getattr(torch, setting)


def passes(scale: int, width: int, height: int, out_width: int, out_height: int) -> int:
    """How many model passes reach at least the target size (0: no enlargement needed)."""
    need = max(out_width / width, out_height / height)
    if need <= 1.0:
        return 0
    return max(1, math.ceil(math.log(need) / math.log(scale) - 1e-9))


def tiles(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of `tile` along `length`, `overlap` shared, the last flush."""
    if tile <= 0 or length <= tile:
        return [0]
    stride = tile - overlap
    starts = list(range(0, length - tile, stride))
    return [*starts, length - tile]


def load_model(config: Swin2SRConfig, device: Any, dtype: Any) -> Any:
    """The model from `config.model_dir`, local files only, on `device` in `dtype`."""
    from transformers import Swin2SRForImageSuperResolution

    check_swin2sr(config)
    cls: Any = Swin2SRForImageSuperResolution  # transformers' from_pretrained is untyped here
    model = cls.from_pretrained(str(config.model_dir), local_files_only=True, dtype=dtype)
    model = model.to(device=device, dtype=dtype).eval()
    if config.compile:
        model.compile()  # in place: nn.Module.compile sets _compiled_call_impl
    return model


class Swin2SRRunner:
    """Child-side: `load()` reads the model once; `generate()` upscales one job's frames."""

    def __init__(self, config: Swin2SRConfig) -> None:
        self.config = config
        self.model: Any = None
        self.device: Any = None
        self.dtype: Any = None
        self.scale = 2
        self.window = 8
        self.rescale = 1 / 255
        self.loads = 0

    def load(self) -> dict[str, Any]:
        self.device = resolve_device(self.config.device)
        self.dtype = resolve_dtype(self.config.dtype)
        assert self.config.model_dir is not None  # checked by check_swin2sr
        pre = json.loads((self.config.model_dir / "preprocessor_config.json").read_text())
        if pre.get("do_rescale", True):
            self.rescale = float(pre.get("rescale_factor", 1 / 255))
        else:
            self.rescale = 1.0
        self.model = load_model(self.config, self.device, self.dtype)
        self.scale = int(self.model.config.upscale)
        self.window = int(self.model.config.window_size)
        self.loads += 1
        return {
            "pipeline": type(self.model).__name__,
            "device": str(self.device),
            "dtype": str(self.dtype).removeprefix("torch."),
            "compiled": self.model._compiled_call_impl is not None,
            "scale": self.scale,
            "upsampler": str(self.model.config.upsampler),
            "tile": self.config.tile,
            "parameters": sum(p.numel() for p in self.model.parameters()),
            "loads": self.loads,
        }

    def generate(
        self, job: Job, progress: Callable[[float], None], stopped: Callable[[], bool]
    ) -> Generated:
        source = job.frames("source")
        assert source is not None
        count, height, width = int(source.shape[0]), int(source.shape[1]), int(source.shape[2])
        out_path = Path(job.output).parent / FRAMES_FILE
        shape = (count, job.height, job.width, 3)
        out = np.lib.format.open_memmap(out_path, mode="w+", dtype=np.uint8, shape=shape)
        rounds = passes(self.scale, width, height, job.width, job.height)
        started = time.perf_counter()
        for index in range(count):
            if stopped():
                raise Interrupted()
            frame = np.asarray(source[index])
            for step in range(rounds):
                done = (index + step / rounds) / count

                def tick(fraction: float, done: float = done) -> None:
                    progress(min(0.99, done + fraction / rounds / count))

                frame = self.upscale(frame, tick, stopped)
            out[index] = fit(frame, job.width, job.height)
            progress(min(0.99, (index + 1) / count))
        out.flush()
        del out
        elapsed = time.perf_counter() - started
        progress(1.0)
        return Generated(np.zeros((0, 0, 0, 3), np.uint8), float(job.fps), elapsed)

    def upscale(
        self, frame: np.ndarray, tick: Callable[[float], None], stopped: Callable[[], bool]
    ) -> np.ndarray:
        """One model pass over `frame` (h, w, 3) uint8, tile by tile: (h*s, w*s, 3) uint8."""
        import torch

        height, width = frame.shape[:2]
        scale = self.scale
        tile = self.config.tile if self.config.tile > 0 else max(height, width)
        tile = max(tile, self.window)
        overlap = min(self.config.tile_overlap, tile // 4)
        rows, cols = tiles(height, tile, overlap), tiles(width, tile, overlap)
        total = torch.zeros((3, height * scale, width * scale), dtype=torch.float32)
        weight = torch.zeros((1, height * scale, width * scale), dtype=torch.float32)
        pixels = torch.from_numpy(np.array(frame, dtype=np.uint8)).permute(2, 0, 1)
        positions = [(y, x) for y in rows for x in cols]
        for done, (y, x) in enumerate(positions, 1):
            if stopped():
                raise Interrupted()
            part = pixels[:, y : y + tile, x : x + tile]
            result = self.forward(part)
            h, w = result.shape[1:]
            total[:, y * scale : y * scale + h, x * scale : x * scale + w] += result
            weight[:, y * scale : y * scale + h, x * scale : x * scale + w] += 1
            tick(done / len(positions))
        image = (total / weight).clamp_(0, 1).mul_(255).round_()
        return np.ascontiguousarray(image.to(torch.uint8).permute(1, 2, 0).numpy())

    def forward(self, part: Any) -> Any:
        """The model on one (3, h, w) uint8 tile: (3, h*s, w*s) float32 in [0, 1], on the CPU."""
        import torch

        _, height, width = part.shape
        x = part[None].to(device=self.device, dtype=torch.float32) * self.rescale
        # Pad to the window ourselves: the model's own reflect pad fails on a side shorter
        # than the pad, and a replicate pad of a tiny tile is as good.
        pad_h, pad_w = -height % self.window, -width % self.window
        if pad_h or pad_w:
            mode = "reflect" if pad_h < height and pad_w < width else "replicate"
            x = torch.nn.functional.pad(x, (0, pad_w, 0, pad_h), mode=mode)
        with torch.inference_mode():
            out = self.model(pixel_values=x.to(self.dtype)).reconstruction
        out = out[0, :, : height * self.scale, : width * self.scale]
        return out.float().cpu()


def fit(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """`frame` resized with Lanczos to exactly width x height (unchanged when it is)."""
    if frame.shape[1] == width and frame.shape[0] == height:
        return frame
    image = Image.fromarray(frame).resize((width, height), Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.uint8)
