"""Engines that misbehave on purpose, loaded by servers under test through
REELSERVE_ENGINE_PLUGINS. Each run is appended to $REELSERVE_TEST_ENGINE_LOG."""

from __future__ import annotations

import os
import time

from reelserve.engines.base import Capability, Engine, EngineOutput, EngineRequest, ProgressFn


def _log(event: str, request: EngineRequest) -> None:
    path = os.environ.get("REELSERVE_TEST_ENGINE_LOG")
    if path:
        with open(path, "a") as fh:
            fh.write(f"{event} {os.getpid()} {request.prompt}\n")


class DyingEngine(Engine):
    """Kills its whole process part-way through, as an out-of-memory kill would."""

    name = "dying"
    capabilities = frozenset(Capability)

    def run(self, request: EngineRequest, progress: ProgressFn) -> EngineOutput:
        _log("run", request)
        progress(0.3)
        time.sleep(0.5)
        os._exit(137)


class RaisingEngine(Engine):
    """Raises on every run, as a buggy engine would."""

    name = "raising"
    capabilities = frozenset(Capability)

    def run(self, request: EngineRequest, progress: ProgressFn) -> EngineOutput:
        _log("run", request)
        raise RuntimeError("engine exploded")


class SlowSyntheticEngine(Engine):
    """The synthetic engine, slowed to 25 ms a frame (`REELSERVE_TEST_SLOW_FRAME_S`) so a
    test can catch it mid-run."""

    name = "slow"
    capabilities = frozenset(Capability)

    def __init__(self) -> None:
        from reelserve.engines.synthetic import SyntheticEngine

        self._inner = SyntheticEngine()

    def run(self, request: EngineRequest, progress: ProgressFn) -> EngineOutput:
        _log("run", request)
        out = self._inner.run(request, progress)
        delay = float(os.environ.get("REELSERVE_TEST_SLOW_FRAME_S", "0.025"))

        def frames():  # type: ignore[no-untyped-def]
            for frame in out.frames:
                time.sleep(delay)
                yield frame

        return EngineOutput(frames(), out.num_frames, out.width, out.height, out.fps)


class LoggedSyntheticEngine(Engine):
    """The synthetic engine, logging each run (which process ran which prompt)."""

    name = "logged"
    capabilities = frozenset(Capability)

    def __init__(self) -> None:
        from reelserve.engines.synthetic import SyntheticEngine

        self._inner = SyntheticEngine()

    def run(self, request: EngineRequest, progress: ProgressFn) -> EngineOutput:
        _log("run", request)
        return self._inner.run(request, progress)


class BrokenSetupEngine(Engine):
    """Cannot be set up (its weights are missing, say): readiness names it."""

    name = "broken"
    capabilities = frozenset(Capability)

    def setup(self) -> None:
        raise RuntimeError("no weights in /nowhere")

    def run(self, request: EngineRequest, progress: ProgressFn) -> EngineOutput:
        raise AssertionError("never set up, never run")
