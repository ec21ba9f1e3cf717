"""A fake engine for tests: flat frames of any size and count, or a scripted failure."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from reelserve.engines.base import (
    Capability,
    Engine,
    EngineError,
    EngineOutput,
    EngineRequest,
    Frame,
    ProgressFn,
)


class FakeEngine(Engine):
    """Frame i is filled with the value i % 256; renders at `size`/`frames` when given.

    `fail_with` raises that exception from `run`, to exercise failure paths.
    """

    name = "fake"
    capabilities = frozenset(Capability)
    description = "test double: flat frames, optional scripted failure"

    def __init__(
        self,
        size: tuple[int, int] | None = None,
        frames: int | None = None,
        fail_with: Exception | None = None,
    ) -> None:
        self.size = size
        self.frames = frames
        self.fail_with = fail_with
        self.calls: list[EngineRequest] = []

    def run(self, request: EngineRequest, progress: ProgressFn) -> EngineOutput:
        self.calls.append(request)
        if self.fail_with is not None:
            raise self.fail_with
        width, height = self.size or (request.width, request.height)
        count = self.frames or request.num_frames

        def frames() -> Iterator[Frame]:
            for i in range(count):
                progress((i + 1) / count)
                yield np.full((height, width, 3), i % 256, np.uint8)

        return EngineOutput(frames(), count, width, height, float(request.fps))


__all__ = ["EngineError", "FakeEngine"]
