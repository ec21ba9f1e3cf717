"""What a task costs, in credits (issue 5, spec §3 credits; issue 12 per model).

Video (`REELSERVE_CREDITS_PER_5S`): credits per 5 seconds of output by
quality — 360p 4, 480p 6, 720p 12, 1080p 20 (4k: 40) — rounded up for other
lengths. So a 5 s 720p Runway video costs 12 and a 10 s one 24; an extension
costs its new 5 seconds; an Aleph restyle is charged for 5 s at 720p (its
longest output; shorter sources are not refunded the difference); a market
video by its `duration` and `resolution`.
Images (`REELSERVE_CREDITS_PER_IMAGE`, default 4): per image asked for.
Audio (`REELSERVE_CREDITS_PER_AUDIO_MINUTE`, default 6): per started half
minute, at least one; speech whose length follows its text is charged for a
minute. Text results (speech-to-text, characters, lyrics, MIDI):
`REELSERVE_CREDITS_PER_TEXT` (default 2). Songs (Suno: two tracks):
`REELSERVE_CREDITS_PER_SONG` (default 12); a Suno WAV or stems task is audio
(by the track's length), a music video is video (960×540: the 720p rate).
`REELSERVE_MODEL_CREDITS` (`pattern=credits;...`, globs over model names)
sets a flat price per task for matching models, first match wins.
"""

from __future__ import annotations

import math
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from reelserve.engines.base import Capability, Kind
from reelserve.tasks.models import NewTask

if TYPE_CHECKING:
    from reelserve.settings import Settings

DEFAULT_PER_5S: dict[str, float] = {"360p": 4, "480p": 6, "720p": 12, "1080p": 20}
EXTENSION_S = 5


def _operation_kind(operation: str) -> Kind:
    try:
        return Capability(operation).kind
    except ValueError:
        return Kind.VIDEO


def price_of(new: NewTask, settings: Settings | dict[str, float]) -> int:
    """Credits for `new`, from its model, operation, output size and length.

    `settings` may be just the per-5 s video table (the first version's signature).
    """
    per_5s = settings if isinstance(settings, dict) else settings.credits_per_5s
    params = new.params
    model = str(params.get("model_id") or "")
    if model and not isinstance(settings, dict):
        for pattern, credits in settings.model_credits.items():
            if fnmatchcase(model, pattern):
                return math.ceil(credits)
    kind = _operation_kind(new.operation)
    if "spec" in params and not isinstance(settings, dict):
        if kind is Kind.IMAGE:
            return math.ceil(settings.credits_per_image * max(1, int(params.get("count") or 1)))
        if kind is Kind.AUDIO:
            seconds = float(params.get("duration") or 60)
            halves = max(1, math.ceil(seconds / 30))
            return math.ceil(settings.credits_per_audio_minute * halves / 2)
        if kind is Kind.TEXT:
            return math.ceil(settings.credits_per_text)
        if kind is Kind.MUSIC:
            return math.ceil(settings.credits_per_song)
    quality = str(params.get("quality") or params.get("resolution") or "720p").lower()
    if new.operation == Capability.EXTEND.value and "spec" not in params:
        seconds = EXTENSION_S  # the parent's seconds were paid for by the parent
    else:
        # Aleph has no duration: it is charged its longest output, 5 s.
        seconds = math.ceil(float(params.get("duration") or 5))
    rate = per_5s.get(quality)
    if rate is None:
        rate = 2 * per_5s.get("1080p", 20) if quality in ("4k", "2160p") else per_5s.get("720p", 12)
    return math.ceil(rate * seconds / 5)
