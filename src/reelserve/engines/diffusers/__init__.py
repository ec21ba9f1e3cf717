"""Real AI engines through diffusers: `ltx-video` (ltx.py) and `wan` (wan.py).

Importing this package pulls no torch: the engine objects the server holds
only start a child process (`engines/isolated.py`) that imports torch and
diffusers and keeps the pipeline resident. Install with `reelserve[diffusers]`.
"""
