"""Open-model engines for the Suno family's derived operations (docs/engines.md, "Music engines").

- `demucs` (demucs.py): separate_stems with HTDemucs, in a child process;
- `basic-pitch` (basic_pitch.py): audio_to_midi with basic-pitch's ONNX model,
  through onnxruntime, in the server's worker.

Nothing here imports torch, demucs or onnxruntime at import time: the registry
factories (factory.py) are cheap, and only the engines load them.
"""
