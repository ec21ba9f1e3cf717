"""The Engine interface: a generation backend with declared operations.

An engine is set up once (`setup`), then `run` is called once per task, off the
event loop, with a fully resolved request: output sizes, frame counts, fps,
durations and counts are decided by the server (see `tasks.geometry` and
`catalogue/`), and conditioning images have already been decoded (the first
frame fitted to the output size). The engine returns an output of the
operation's kind — video frames (with an optional audio track), images, audio
samples or text/JSON — and the server fits, encodes and stores it
(`worker/pipeline.py`, `media/`), so every engine gets encoding, covers,
watermarks, retention and signed URLs for free.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

Frame = npt.NDArray[np.uint8]
"""One RGB frame, shape (height, width, 3), dtype uint8 (RGBA images: (h, w, 4))."""

Samples = npt.NDArray[np.float32]
"""Audio samples in [-1, 1], shape (n, channels)."""

ProgressFn = Callable[[float], None]
"""Called by an engine with its completed fraction in [0, 1]; cheap and thread-safe."""


class Kind(StrEnum):
    """What an operation produces; each kind has its encoders and artifact roles."""

    VIDEO = "video"
    IMAGE = "image"
    AUDIO = "audio"
    TEXT = "text"


class Capability(StrEnum):
    """An operation: what a task asks an engine to do, named by input and output.

    `EXTEND` keeps its stored value "extend" (tasks in existing databases carry
    it); routes accept `extend_video` for it too.
    """

    TEXT_TO_VIDEO = "text_to_video"
    IMAGE_TO_VIDEO = "image_to_video"
    EXTEND = "extend"
    VIDEO_TO_VIDEO = "video_to_video"
    REFERENCE_TO_VIDEO = "reference_to_video"
    UPSCALE_VIDEO = "upscale_video"
    LIP_SYNC = "lip_sync"
    MOTION_TRANSFER = "motion_transfer"
    TEXT_TO_IMAGE = "text_to_image"
    IMAGE_TO_IMAGE = "image_to_image"
    UPSCALE_IMAGE = "upscale_image"
    REMOVE_BACKGROUND = "remove_background"
    TEXT_TO_SPEECH = "text_to_speech"
    SOUND_EFFECT = "sound_effect"
    AUDIO_ISOLATION = "audio_isolation"
    SPEECH_TO_TEXT = "speech_to_text"
    CREATE_CHARACTER = "create_character"

    @property
    def kind(self) -> Kind:
        return OUTPUT_KIND[self]


Operation = Capability
"""The glossary's word; `Capability` is kept for existing code and plugins."""

VIDEO_OPERATIONS = frozenset(
    {
        Capability.TEXT_TO_VIDEO,
        Capability.IMAGE_TO_VIDEO,
        Capability.EXTEND,
        Capability.VIDEO_TO_VIDEO,
    }
)
"""The operations of the first video engines (Runway, Aleph, synthetic/*)."""

OUTPUT_KIND: dict[Capability, Kind] = {
    Capability.TEXT_TO_VIDEO: Kind.VIDEO,
    Capability.IMAGE_TO_VIDEO: Kind.VIDEO,
    Capability.EXTEND: Kind.VIDEO,
    Capability.VIDEO_TO_VIDEO: Kind.VIDEO,
    Capability.REFERENCE_TO_VIDEO: Kind.VIDEO,
    Capability.UPSCALE_VIDEO: Kind.VIDEO,
    Capability.LIP_SYNC: Kind.VIDEO,
    Capability.MOTION_TRANSFER: Kind.VIDEO,
    Capability.TEXT_TO_IMAGE: Kind.IMAGE,
    Capability.IMAGE_TO_IMAGE: Kind.IMAGE,
    Capability.UPSCALE_IMAGE: Kind.IMAGE,
    Capability.REMOVE_BACKGROUND: Kind.IMAGE,
    Capability.TEXT_TO_SPEECH: Kind.AUDIO,
    Capability.SOUND_EFFECT: Kind.AUDIO,
    Capability.AUDIO_ISOLATION: Kind.AUDIO,
    Capability.SPEECH_TO_TEXT: Kind.TEXT,
    Capability.CREATE_CHARACTER: Kind.TEXT,
}


@dataclass(frozen=True)
class Audio:
    """A clip of audio: float32 samples in [-1, 1], shape (n, channels), at `sample_rate` Hz."""

    samples: Samples
    sample_rate: int

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.sample_rate if self.sample_rate else 0.0


@dataclass(frozen=True)
class EngineRequest:
    """Everything an engine needs for one task.

    Video operations: `width`/`height`/`num_frames`/`fps` are the output;
    `image` is the conditioning frame, already fitted to width x height (the
    source image for image_to_video, the parent's last frame for extend,
    the portrait for lip_sync and motion_transfer); `context` (extend only) is
    the parent's last frames, oldest first, fitted likewise; `video` is the
    source video's frames (video_to_video, upscale_video, motion_transfer);
    `sound` asks for an audio track (`audio` then is a driving/reference track
    when the client gave one).
    Image operations: `count` images of `width` x `height`; `images` are the
    input/reference images as decoded (not fitted), `mask` an optional mask.
    Audio operations: `duration_s` seconds (0: the engine decides, e.g. speech
    from the text length) at `sample_rate`; `audio` the input clip
    (audio_isolation, speech_to_text, lip_sync).
    `params` are the model's validated inputs (voice, style, language...), for
    engines that use them. `seed` is always set: the server derives it from the
    request when the client gave none, so the same request gives the same output.
    """

    operation: Capability
    prompt: str
    width: int = 0
    height: int = 0
    num_frames: int = 0
    fps: int = 24
    seed: int = 0
    image: Frame | None = None
    video: list[Frame] | None = field(default=None, repr=False)
    reference_image: Frame | None = field(default=None, repr=False)
    context: list[Frame] | None = field(default=None, repr=False)
    images: list[Frame] = field(default_factory=list, repr=False)
    mask: Frame | None = field(default=None, repr=False)
    audio: Audio | None = field(default=None, repr=False)
    sound: bool = False
    count: int = 1
    duration_s: float = 0.0
    sample_rate: int = 44100
    model: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class EngineOutput:
    """Video frames produced by an engine, possibly lazily (an iterator is consumed once).

    `num_frames`, `width`, `height` and `fps` describe what `frames` yields; when
    they differ from the request the server resizes and resamples (see
    `media.frames.resample_indices`). `audio` is the soundtrack, when the
    request asked for sound (the server fits it to the video's length).
    """

    frames: Iterable[Frame]
    num_frames: int
    width: int
    height: int
    fps: float
    audio: Audio | None = None


VideoOutput = EngineOutput


@dataclass
class ImageOutput:
    """One or more images, uint8 RGB (h, w, 3) or RGBA (h, w, 4); the server fits and encodes."""

    images: list[Frame]


@dataclass
class AudioOutput:
    audio: Audio


@dataclass
class TextOutput:
    """A JSON-able result (a transcript, a character id)."""

    data: dict[str, Any]


Output = EngineOutput | ImageOutput | AudioOutput | TextOutput


class EngineError(Exception):
    """An engine could not produce its output; `fail_code` 400 means the input was at fault."""

    def __init__(self, message: str, fail_code: int = 500) -> None:
        super().__init__(message)
        self.fail_code = fail_code


class Engine(ABC):
    """A generation backend. Subclasses declare `name` and `capabilities` (its operations)."""

    name: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]]
    description: ClassVar[str] = ""

    def setup(self) -> None:  # noqa: B027 - optional hook, most engines need nothing
        """Load weights or warm caches; called once before the first `run`."""

    @abstractmethod
    def run(self, request: EngineRequest, progress: ProgressFn) -> Output:
        """Produce the output of `request`, reporting progress as it goes."""
