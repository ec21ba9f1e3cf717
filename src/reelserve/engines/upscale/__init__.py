"""Open-model upscalers (docs/engines.md, "swin2sr").

- `swin2sr` (swin2sr.py, runner.py): upscale_image and upscale_video with
  transformers' Swin2SRForImageSuperResolution, in a child process.

Nothing here imports torch or transformers at import time: the registry
factory (factory.py) is cheap, and only the engine's child loads them.
"""
