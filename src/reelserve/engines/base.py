"""The Engine interface: a generation backend with declared capabilities.

An engine is set up once (`setup`), then `run` is called once per task, off the
event loop, with a fully resolved request: the output size, frame count and fps
are decided by the server (see `tasks.geometry`), and any conditioning image has
already been fitted to that size. The engine returns frames; the server fits
them to the requested geometry, burns the watermark and encodes the MP4.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar

import numpy as np
import numpy.typing as npt

Frame = npt.NDArray[np.uint8]
"""One RGB frame, shape (height, width, 3), dtype uint8."""

ProgressFn = Callable[[float], None]
"""Called by an engine with its completed fraction in [0, 1]; cheap and thread-safe."""


class Capability(StrEnum):
    TEXT_TO_VIDEO = "text_to_video"
    IMAGE_TO_VIDEO = "image_to_video"
    EXTEND = "extend"
    VIDEO_TO_VIDEO = "video_to_video"


@dataclass(frozen=True)
class EngineRequest:
    """Everything an engine needs for one generation.

    `image` is the conditioning frame, already fitted to width x height: the
    source image for image_to_video, the parent's last frame for extend.
    `context` (extend only) is the parent's last frames, oldest first, fitted
    likewise (`REELSERVE_EXTEND_CONTEXT_FRAMES` of them, fewer for a short
    parent); its last frame is `image`.
    `seed` is always set: the server derives it from the request when the
    client gave none, so the same request gives the same video.
    """

    operation: Capability
    prompt: str
    width: int
    height: int
    num_frames: int
    fps: int
    seed: int
    image: Frame | None = None
    video: list[Frame] | None = field(default=None, repr=False)
    reference_image: Frame | None = field(default=None, repr=False)
    context: list[Frame] | None = field(default=None, repr=False)


@dataclass
class EngineOutput:
    """Frames produced by an engine, possibly lazily (an iterator is consumed once).

    `num_frames`, `width`, `height` and `fps` describe what `frames` yields; when
    they differ from the request the server resizes and resamples (see
    `media.frames.resample_indices`).
    """

    frames: Iterable[Frame]
    num_frames: int
    width: int
    height: int
    fps: float


class EngineError(Exception):
    """An engine could not produce a video; `fail_code` 400 means the input was at fault."""

    def __init__(self, message: str, fail_code: int = 500) -> None:
        super().__init__(message)
        self.fail_code = fail_code


class Engine(ABC):
    """A generation backend. Subclasses declare `name` and `capabilities`."""

    name: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]]
    description: ClassVar[str] = ""

    def setup(self) -> None:  # noqa: B027 - optional hook, most engines need nothing
        """Load weights or warm caches; called once before the first `run`."""

    @abstractmethod
    def run(self, request: EngineRequest, progress: ProgressFn) -> EngineOutput:
        """Generate the video for `request`, reporting progress as it goes."""
