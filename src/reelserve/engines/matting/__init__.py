"""Background removal with open models (docs/engines.md, "rembg").

- `rembg` (engine.py, runner.py): remove_background with rembg 2.0 sessions
  over an ONNX file the operator placed (u2net, IS-Net, BiRefNet, BRIA RMBG...),
  onnxruntime on the CPU or CUDA, in a child process.

Nothing here imports rembg or onnxruntime at import time: the registry factory
(factory.py) is cheap, and only the engine's child loads them.
"""
