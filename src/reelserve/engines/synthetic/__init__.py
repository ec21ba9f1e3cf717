"""The `synthetic` engine: procedural media on the CPU, for development, tests and demos.

Not AI. Split by kind of output; `SyntheticEngine` (in `video` for now)
keeps its import path `reelserve.engines.synthetic`.
"""

from reelserve.engines.synthetic.video import SyntheticEngine

__all__ = ["SyntheticEngine"]
