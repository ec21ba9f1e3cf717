"""Text results: an honest synthetic transcript and deterministic character ids.

speech_to_text does not recognise speech. It measures the clip (length,
voiced segments found from its energy envelope) and says so in the text,
with one "word" per voiced segment timed where the energy is, so clients
that lay words on a timeline get plausible timings and nobody mistakes the
output for a transcription.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

from reelserve.engines.base import EngineError, EngineRequest, TextOutput
from reelserve.engines.synthetic.dsp import Floats, frame_rms, to_mono

_FRAME_S = 0.02
_MIN_VOICED_S = 0.06
_MAX_GAP_S = 0.12


def voiced_segments(mono: Floats, rate: int) -> list[tuple[float, float]]:
    """(start, end) seconds of the stretches louder than the clip's adaptive threshold.

    Threshold: above both 4x the quiet floor (10th percentile of 20 ms RMS)
    and 10% of the loud level (95th percentile); gaps under 120 ms are
    bridged and blips under 60 ms dropped, like a simple voice activity detector.
    """
    hop = max(1, round(_FRAME_S * rate))
    rms = frame_rms(mono, hop)
    if rms.size == 0 or float(rms.max()) <= 1e-6:
        return []
    floor, loud = float(np.percentile(rms, 10)), float(np.percentile(rms, 95))
    active = rms > max(4.0 * floor, 0.1 * loud, 1e-4)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], active.astype(np.int8), [0]])))
    runs = [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]
    merged: list[tuple[int, int]] = []
    for a, b in runs:
        if merged and (a - merged[-1][1]) * _FRAME_S < _MAX_GAP_S:
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    seconds = len(mono) / rate
    return [
        (round(a * _FRAME_S, 3), round(min(b * _FRAME_S, seconds), 3))
        for a, b in merged
        if (b - a) * _FRAME_S >= _MIN_VOICED_S
    ]


def speech_to_text(request: EngineRequest) -> TextOutput:
    """{"text", "language_code", "words"}: a labelled synthetic transcript of the segments."""
    if request.audio is None:
        raise EngineError("speech_to_text needs an input audio clip", fail_code=400)
    clip = request.audio
    segments = voiced_segments(to_mono(clip.samples), clip.sample_rate)
    plural = "" if len(segments) == 1 else "s"
    text = (
        f"[synthetic transcript: {clip.seconds:.1f} s of audio, "
        f"{len(segments)} voiced segment{plural}; no speech was recognised]"
    )
    words: list[dict[str, Any]] = [
        {"text": f"[segment {i}]", "start": start, "end": end, "type": "word"}
        for i, (start, end) in enumerate(segments, start=1)
    ]
    language = str(request.params.get("language_code") or request.params.get("language") or "en")
    return TextOutput({"text": text, "language_code": language, "words": words})


def create_character(request: EngineRequest) -> TextOutput:
    """{"character_id": "synthetic_<12 hex>"}: a digest of everything the request carries."""
    digest = hashlib.sha256()
    header = {
        "model": request.model,
        "prompt": request.prompt,
        "seed": request.seed,
        "params": request.params,
    }
    digest.update(json.dumps(header, sort_keys=True, default=str).encode("utf-8"))
    # A coarse sample of each frame: identical inputs hash alike, without hashing
    # every byte of a long video.
    frames = [request.image, request.reference_image, *(request.video or []), *request.images]
    for frame in frames:
        if frame is not None:
            digest.update(repr(frame.shape).encode())
            digest.update(np.ascontiguousarray(frame[::8, ::8]).tobytes())
    return TextOutput({"character_id": "synthetic_" + digest.hexdigest()[:12]})
