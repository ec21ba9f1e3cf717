"""The synthetic music engine's analysis operations: audio_to_midi, music_video, convert_audio.

- audio_to_midi: `request.clips` (the stems) named by `params.clip_names`,
  transcribed note by note (`transcribe.py`: pitch tracking for pitched
  stems, onsets for drums) into KIE's MIDI shape.
- music_video: the track with its cover and a spectrum visualiser (`visualiser.py`).
- convert_audio: the input audio as it is (the server writes it as WAV).
"""

from __future__ import annotations

from reelserve.engines.base import (
    AudioOutput,
    Capability,
    EngineError,
    EngineRequest,
    Output,
    TextOutput,
)
from reelserve.engines.synthetic.music.transcribe import transcribe
from reelserve.engines.synthetic.music.visualiser import music_video

TOOL_CAPABILITIES = frozenset(
    {Capability.AUDIO_TO_MIDI, Capability.MUSIC_VIDEO, Capability.CONVERT_AUDIO}
)


def run_tool(request: EngineRequest) -> Output:
    if request.operation is Capability.MUSIC_VIDEO:
        return music_video(request)
    if request.operation is Capability.CONVERT_AUDIO:
        if request.audio is None:
            raise EngineError("convert_audio needs an input audio", fail_code=400)
        return AudioOutput(request.audio)
    if request.operation is Capability.AUDIO_TO_MIDI:
        clips = list(request.clips) or ([request.audio] if request.audio is not None else [])
        if not clips:
            raise EngineError("audio_to_midi needs the stems to transcribe", fail_code=400)
        names = [str(n) for n in request.params.get("clip_names") or ()]
        names += ["other"] * (len(clips) - len(names))
        return TextOutput({"instruments": transcribe(clips, names[: len(clips)])})
    raise EngineError(f"unsupported operation {request.operation}")
