"""The torch device an engine's child runs on, from its `*_DEVICE` setting (torch is imported
here, in the child, never by the server process)."""

from __future__ import annotations

from typing import Any

from reelserve.engines.base import EngineError


def resolve_device(setting: str, env: str = "REELSERVE_DIFFUSERS_DEVICE") -> Any:
    """`auto` -> cuda when available, else cpu; a device that is not there is a clear error
    naming the setting `env`."""
    import torch

    if setting == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(setting)
    except (RuntimeError, ValueError) as exc:
        raise EngineError(f"{env}={setting!r} is not a device: {exc}") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise EngineError(
                f"{env}={setting!r} but CUDA is not available here "
                "(no GPU, or a CPU-only torch build)"
            )
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise EngineError(
                f"{env}={setting!r} but only {torch.cuda.device_count()} CUDA device(s) exist"
            )
    return device
