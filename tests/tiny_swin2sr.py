"""Tiny random-weight Swin2SR models saved as the Hub's `caidas/swin2SR-*` folders are laid out.

config.json + model.safetensors + preprocessor_config.json, written by
`save_pretrained` of the real transformers classes: what the `swin2sr`
engine loads. ~20 k parameters (embed_dim 16, two one-block stages,
window 4), so a 24x24 image upscales in a few milliseconds on CPU.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def build_swin2sr(directory: Path, upscale: int = 2) -> Path:
    import torch
    import transformers
    from transformers import Swin2SRConfig, Swin2SRForImageSuperResolution

    # transformers 5 has the PIL-only processor (no torchvision); older ones the plain one.
    processor: Any = getattr(transformers, "Swin2SRImageProcessorPil", None) or (
        transformers.Swin2SRImageProcessor
    )

    torch.manual_seed(0)
    config = Swin2SRConfig(
        image_size=16,
        patch_size=1,
        num_channels=3,
        embed_dim=16,
        depths=[1, 1],
        num_heads=[2, 2],
        window_size=4,
        upscale=upscale,
        upsampler="pixelshuffle",
        mlp_ratio=2.0,
    )
    model: Any = Swin2SRForImageSuperResolution(config)
    model.eval()
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    processor().save_pretrained(directory)
    return directory
