"""The `synthetic` engine: procedural media on the CPU, for development, tests and demos.

Not AI. One module per kind of output: `video` (the original four video
operations) and `video_tools` (the newer ones), `image`, `speech` and
`audio`, `text`; `scene`, `restyle` and `dsp` are what they share, and
`engine` dispatches. `from reelserve.engines.synthetic import SyntheticEngine`
is the import path it always had.
"""

from reelserve.engines.synthetic.engine import SyntheticEngine

__all__ = ["SyntheticEngine"]
