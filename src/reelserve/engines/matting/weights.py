"""Checking the `rembg` engine's file and packages before anything loads them.

A server routed to `rembg` whose ONNX file, packages or CUDA provider are
missing refuses to start and says what is missing (like the other engines),
instead of failing its first task. rembg itself is not imported here (it
imports scikit-image, scipy and pymatting); onnxruntime is, for the cuda check.
"""

from __future__ import annotations

from reelserve.engines.diffusers.weights import WeightsError
from reelserve.engines.matting.config import RembgConfig
from reelserve.engines.music.weights import installed

INSTALL = "pip install 'reelserve[rembg]' (see docs/engines.md, 'rembg')"

CUSTOM_SESSIONS = ("u2net_custom", "dis_custom", "ben_custom")
"""rembg sessions that take any file (`model_path=`): u2net-, IS-Net- and BEN-style models."""
NAMED_SESSIONS = (
    "u2net",
    "u2netp",
    "u2net_human_seg",
    "silueta",
    "isnet-general-use",
    "isnet-anime",
    "birefnet-general",
    "birefnet-general-lite",
    "birefnet-portrait",
    "birefnet-dis",
    "birefnet-hrsod",
    "birefnet-cod",
    "birefnet-massive",
    "bria-rmbg",
)
"""rembg 2.0 sessions of one published file each, found offline as `<U2NET_HOME>/<name>.onnx`.

Left out: u2net_cloth_seg (three masks, one per garment), sam (two files and
prompts), birefnet-general-fp16 (converts on first use), and the remote ones
(atlascloud, withoutbg)."""
SESSIONS = CUSTOM_SESSIONS + NAMED_SESSIONS
PROVIDERS = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider"}


def check_rembg(config: RembgConfig) -> None:
    """rembg and onnxruntime are installed, the file is there and fits the session, and
    the device's onnxruntime provider is available."""
    engine, setting = config.engine, config.setting
    for module, what in (("rembg", "rembg 2.0"), ("onnxruntime", "onnxruntime")):
        if not installed(module):
            raise WeightsError(f"engine {engine!r} needs {what}, which is not installed: {INSTALL}")
    if config.session not in SESSIONS:
        raise WeightsError(
            f"engine {engine!r}: REELSERVE_REMBG_SESSION={config.session!r} is not a rembg "
            f"session this engine runs offline; one of {', '.join(SESSIONS)}"
        )
    path = config.model
    if path is None:
        raise WeightsError(
            f"engine {engine!r} needs {setting}: the path of an ONNX file placed on this host, "
            "e.g. u2net.onnx or birefnet-general.onnx from rembg's releases "
            "(see docs/engines.md, 'rembg')"
        )
    where = f"{setting}={path}"
    if not path.is_file():
        raise WeightsError(f"engine {engine!r}: {where} is not a file")
    if path.suffix != ".onnx":
        raise WeightsError(f"engine {engine!r}: {where} is not an .onnx file")
    if config.session in NAMED_SESSIONS and path.name != f"{config.session}.onnx":
        raise WeightsError(
            f"engine {engine!r}: REELSERVE_REMBG_SESSION={config.session!r} finds its model "
            f"as {config.session}.onnx, but {where} is named {path.name}: rename the file, "
            "or use a *_custom session (u2net_custom, dis_custom, ben_custom)"
        )
    check_provider(config)


def check_provider(config: RembgConfig) -> str:
    """The onnxruntime provider of `config.device`; a clear error when it is not available."""
    provider = PROVIDERS.get(config.device)
    if provider is None:
        raise WeightsError(
            f"engine {config.engine!r}: REELSERVE_REMBG_DEVICE={config.device!r}: "
            "expected cpu or cuda"
        )
    import onnxruntime  # type: ignore[import-untyped]

    available = onnxruntime.get_available_providers()
    if provider not in available:
        raise WeightsError(
            f"engine {config.engine!r}: REELSERVE_REMBG_DEVICE={config.device!r} needs "
            f"onnxruntime's {provider}, which this onnxruntime lacks (it has "
            f"{', '.join(available)}): install onnxruntime-gpu instead of onnxruntime"
        )
    return provider
