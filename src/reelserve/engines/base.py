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
    MUSIC = "music"
    """Songs: `MusicOutput`, two tracks with titles, lyrics, word timings and covers."""


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
    TEXT_TO_MUSIC = "text_to_music"
    EXTEND_MUSIC = "extend_music"
    COVER_MUSIC = "cover_music"
    ADD_VOCALS = "add_vocals"
    ADD_INSTRUMENTAL = "add_instrumental"
    REPLACE_SECTION = "replace_section"
    MASHUP_MUSIC = "mashup_music"
    SEPARATE_STEMS = "separate_stems"
    AUDIO_TO_MIDI = "audio_to_midi"
    WRITE_LYRICS = "write_lyrics"
    MUSIC_VIDEO = "music_video"
    CONVERT_AUDIO = "convert_audio"

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
    Capability.TEXT_TO_MUSIC: Kind.MUSIC,
    Capability.EXTEND_MUSIC: Kind.MUSIC,
    Capability.COVER_MUSIC: Kind.MUSIC,
    Capability.ADD_VOCALS: Kind.MUSIC,
    Capability.ADD_INSTRUMENTAL: Kind.MUSIC,
    Capability.REPLACE_SECTION: Kind.MUSIC,
    Capability.MASHUP_MUSIC: Kind.MUSIC,
    Capability.SEPARATE_STEMS: Kind.AUDIO,
    Capability.AUDIO_TO_MIDI: Kind.TEXT,
    Capability.WRITE_LYRICS: Kind.TEXT,
    Capability.MUSIC_VIDEO: Kind.VIDEO,
    Capability.CONVERT_AUDIO: Kind.AUDIO,
}

MUSIC_OPERATIONS = frozenset(op for op, kind in OUTPUT_KIND.items() if kind is Kind.MUSIC) | {
    Capability.SEPARATE_STEMS,
    Capability.AUDIO_TO_MIDI,
    Capability.WRITE_LYRICS,
    Capability.MUSIC_VIDEO,
    Capability.CONVERT_AUDIO,
}
"""The operations of the Suno family (kie-families.md §6); a music engine declares some of them.

What each one gets and returns (the server decides lengths, counts and sizes):
- text_to_music: `prompt` (lyrics in custom mode with vocals, else the idea),
  `count` tracks of `duration_s` each; `params`: `custom`, `instrumental`,
  `style`, `title`, `negative_tags`, `vocal_gender` ("m" | "f" | ""),
  `style_weight` / `weirdness` / `audio_weight` (0-1 or None), `persona`
  ({name, description, source_track} or None), `version` ("V4_5"...), and for
  Suno's sounds `sound` ({loop, tempo, key}). Returns `MusicOutput`.
- extend_music: `audio` the source track, `params.continue_at` (s): the
  output keeps the source up to there and continues it, `duration_s` long in
  all; `params.source_track` (see below) when reelserve made the source.
- cover_music: `audio` an uploaded track, restyled to `params.style`.
- add_vocals: `audio` an instrumental; `prompt` the lyrics sung over it.
- add_instrumental: `audio` a vocal; an accompaniment in `params.style` under it.
- replace_section: `audio` the source track; `params.infill_start`/`infill_end`
  (s) are re-made from `prompt` (lyrics) and `params.style`; the rest is kept.
- mashup_music: `clips` the uploaded tracks, blended into new tracks.
- separate_stems: `audio` a track; `params.mode` "separate_vocal" (stems
  vocals, instrumental) or "split_stem" (up to 12: vocals, backing_vocals,
  drums, bass, guitar, keyboard, percussion, strings, synth, fx, brass,
  woodwinds). Returns `StemsOutput`.
- audio_to_midi: `clips` the stems, `params.clip_names` their names. Returns
  `TextOutput({"instruments": [{"name", "notes": [{pitch, start, end, velocity}]}]})`.
- write_lyrics: `prompt` the idea; `count` variants. Returns
  `TextOutput({"lyrics": [{"title", "text"}]})`.
- music_video: `audio` the track, `image` its cover (fitted to width x height),
  `num_frames` at `fps`; `params` `title`, `author`, `domain_name`. Returns
  `EngineOutput` (frames; the server muxes the track as the soundtrack).
- convert_audio: `audio` returned as it is (the server encodes WAV).

`params.source_track` (when an input was made by reelserve): the track's
`title`, `lyrics`, `tags`, `duration`, `words` and `recipe` as its engine
returned them, so an engine can build on what it knows of its own output.
"""


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
    clips: list[Audio] = field(default_factory=list, repr=False)


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


@dataclass(frozen=True)
class Word:
    """A sung word (or a section tag such as "[Verse]" joined to the next word) and its span, s."""

    text: str
    start: float
    end: float


@dataclass(frozen=True)
class Sheet:
    """What a track is before it is heard (the `text` stage of a song): title, lyrics, tags.

    `lyrics` is "" for an instrumental; `tags` are the style words as the track uses them.
    """

    title: str
    lyrics: str
    tags: str


@dataclass
class Track:
    """One rendered song: its audio, when each word is sung, its cover art and its recipe.

    `cover` is square RGB art (None: the server draws one from the sheet);
    `recipe` is JSON-able and engine-specific: how the engine made the track
    (the synthetic engine keeps key, tempo, chords, seed and re-renders stems from it).
    """

    audio: Audio
    words: list[Word] = field(default_factory=list)
    cover: Frame | None = field(default=None, repr=False)
    recipe: dict[str, Any] = field(default_factory=dict)


@dataclass
class MusicOutput:
    """Songs: every track's sheet up front, then the tracks rendered lazily, one per sheet.

    The server sends Suno's `text` callback once it has the sheets, `first`
    after the first track is stored and `complete` after the last; so an
    engine should make `tracks` a generator that renders as it is consumed.
    """

    sheets: list[Sheet]
    tracks: Iterable[Track]


@dataclass
class StemsOutput:
    """The parts of a track, by stem name (see `MUSIC_OPERATIONS`); absent stems are left out."""

    stems: dict[str, Audio]


Output = EngineOutput | ImageOutput | AudioOutput | TextOutput | MusicOutput | StemsOutput


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
