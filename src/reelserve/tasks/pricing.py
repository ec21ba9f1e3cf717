"""What a task costs, in credits (issue 5, spec §3 credits).

Defaults (`REELSERVE_CREDITS_PER_5S`): credits per 5 seconds of output by
quality — 360p 4, 480p 6, 720p 12, 1080p 20 — rounded up for other lengths.
So a 5 s 720p Runway video costs 12 and a 10 s one 24; an extension costs its
new 5 seconds; an Aleph restyle is charged for 5 s at 720p (its longest
output; shorter sources are not refunded the difference); a market task by
its `duration` and `resolution`.
"""

from __future__ import annotations

import math

from reelserve.engines.base import Capability
from reelserve.tasks.models import NewTask

DEFAULT_PER_5S: dict[str, float] = {"360p": 4, "480p": 6, "720p": 12, "1080p": 20}
EXTENSION_S = 5


def price_of(new: NewTask, per_5s: dict[str, float]) -> int:
    """Credits for `new`, from its operation, output seconds and quality."""
    params = new.params
    quality = str(params.get("quality") or params.get("resolution") or "720p")
    if new.operation == Capability.EXTEND.value:
        seconds = EXTENSION_S  # the parent's seconds were paid for by the parent
    else:
        # Aleph has no duration: it is charged its longest output, 5 s.
        seconds = int(params.get("duration") or 5)
    rate = per_5s.get(quality, per_5s.get("720p", DEFAULT_PER_5S["720p"]))
    return math.ceil(rate * seconds / 5)
