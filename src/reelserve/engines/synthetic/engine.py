"""`SyntheticEngine`: every operation, procedurally, on the CPU (not AI).

It dispatches on `request.operation` to the module of the output's kind:
`video` / `video_tools` (frames, lazily; a soundtrack from `audio` when the
request asks for sound), `image`, `speech` and `audio`, `text`, and the
Suno family's songs, stems and lyrics to `music.run_music`. The server
decides every size and length (geometry, counts, durations, sample rates)
before it calls `run`; the engine only checks what it needs and raises
`EngineError(fail_code=400)` when a required input is missing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import ClassVar

from reelserve.engines.base import (
    Audio,
    AudioOutput,
    Capability,
    Engine,
    EngineError,
    EngineOutput,
    EngineRequest,
    Frame,
    ImageOutput,
    Kind,
    Output,
    ProgressFn,
    TextOutput,
)
from reelserve.engines.synthetic import audio, image, speech, text, video, video_tools
from reelserve.engines.synthetic.music import MUSIC_CAPABILITIES, run_music
from reelserve.engines.synthetic.scene import make_look

_NOT_VIDEO: dict[Capability, Callable[[EngineRequest], ImageOutput | AudioOutput | TextOutput]] = {
    Capability.TEXT_TO_IMAGE: image.text_to_image,
    Capability.IMAGE_TO_IMAGE: image.image_to_image,
    Capability.UPSCALE_IMAGE: image.upscale_image,
    Capability.REMOVE_BACKGROUND: image.remove_background,
    Capability.TEXT_TO_SPEECH: speech.text_to_speech,
    Capability.SOUND_EFFECT: audio.sound_effect,
    Capability.AUDIO_ISOLATION: audio.audio_isolation,
    Capability.SPEECH_TO_TEXT: text.speech_to_text,
    Capability.CREATE_CHARACTER: text.create_character,
}


class SyntheticEngine(Engine):
    """Procedural (not AI) media for every operation, deterministic from the request and seed.

    Video: text_to_video (a moving colour-wave scene with sprites and the
    prompt), image_to_video / extend (starts exactly on `image`, zooms and
    blends toward the scene), video_to_video (a point-wise restyle),
    reference_to_video, upscale_video, lip_sync, motion_transfer; with
    `sound`, a stereo soundtrack of exactly num_frames / fps seconds.
    Images: a procedural landscape with the prompt, a restyle of the input,
    a Lanczos upscale, a flood-fill cut-out (RGBA). Audio: a formant voice,
    effects, a band-pass/noise gate. Text: a transcript that says it is
    synthetic, character ids. Music: procedural songs (wavetable band, a sung
    formant voice, template lyrics), their exact stems from the recipe, and
    derived songs (extend, replace a section, add vocals or a band, cover, mashup).

    >>> out = SyntheticEngine().run(request, progress=lambda f: None)
    """

    name: ClassVar[str] = "synthetic"
    # The music engine's audio_to_midi, music_video and convert_audio come with the other
    # helper's modules (separate/transcribe/visualiser); until then they are not declared.
    capabilities: ClassVar[frozenset[Capability]] = frozenset(Capability) - {
        Capability.AUDIO_TO_MIDI,
        Capability.MUSIC_VIDEO,
        Capability.CONVERT_AUDIO,
    }
    description: ClassVar[str] = (
        "Procedural media on the CPU (not AI): prompt-derived colours, moving shapes and "
        "the prompt text on images and videos, a formant voice, synthesised effects and "
        "soundtracks, procedural songs with a sung formant voice and exact stems, a "
        "transcript that says it is synthetic; deterministic for a given "
        "request and seed."
    )

    def run(self, request: EngineRequest, progress: ProgressFn) -> Output:
        """Validate `request` now; video frames are then generated as they are consumed."""
        if request.operation in MUSIC_CAPABILITIES:
            return run_music(request, progress)
        if request.operation.kind is not Kind.VIDEO:
            result = _NOT_VIDEO[request.operation](request)
            progress(1.0)
            return result
        return run_video(request, progress)


def run_video(request: EngineRequest, progress: ProgressFn) -> EngineOutput:
    op = request.operation
    soundtrack: Audio | None = None
    if op is Capability.LIP_SYNC:
        # The talking length is the audio's when the server left the frame count open.
        driving = video_tools.driving_audio(request)
        if request.num_frames <= 0 and request.fps > 0:
            frames_needed = max(1, math.ceil(driving.seconds * request.fps))
            request = replace(request, num_frames=frames_needed)
    _check_geometry(request)
    look = make_look(request)
    frames: Iterator[Frame]
    if op is Capability.TEXT_TO_VIDEO:
        frames = video.text_to_video(request, look)
    elif op in (Capability.IMAGE_TO_VIDEO, Capability.EXTEND):
        frames = video.animate_image(request, look, video.conditioning_image(request))
    elif op is Capability.VIDEO_TO_VIDEO:
        if not request.video:
            raise EngineError("video_to_video needs a non-empty source video", fail_code=400)
        frames = video.grade_video(request, look, request.video)
    elif op is Capability.REFERENCE_TO_VIDEO:
        frames = video_tools.reference_to_video(request, look)
    elif op is Capability.UPSCALE_VIDEO:
        frames = video_tools.upscale_video(request)
    elif op is Capability.LIP_SYNC:
        driving = video_tools.driving_audio(request)
        frames = video_tools.lip_sync(request, video_tools.lip_openings(request, driving))
        soundtrack = audio.fitted(driving, request.num_frames / request.fps)
    elif op is Capability.MOTION_TRANSFER:
        frames = video_tools.motion_transfer(request, look)
    else:  # pragma: no cover - every video operation is listed above
        raise EngineError(f"unsupported operation {op}")
    if request.sound and soundtrack is None:
        soundtrack = audio.soundtrack(request, look, request.num_frames / request.fps)
    return EngineOutput(
        frames=video.reporting(frames, request.num_frames, progress),
        num_frames=request.num_frames,
        width=request.width,
        height=request.height,
        fps=request.fps,
        audio=soundtrack,
    )


def _check_geometry(request: EngineRequest) -> None:
    if request.width <= 0 or request.height <= 0 or request.num_frames <= 0:
        raise EngineError(
            f"invalid geometry {request.width}x{request.height}, {request.num_frames} frames"
        )
    if request.fps <= 0:
        raise EngineError(f"invalid fps {request.fps}")
