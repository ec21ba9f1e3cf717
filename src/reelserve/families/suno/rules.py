"""Suno's words and rules (kie-families.md §6, notes §4): versions, limits, lengths, ids.

- **Versions:** the docs' `V4`, `V4_5`, `V4_5PLUS`, `V4_5ALL`, `V5`, `V5_5`,
  and `V3_5`, which KIE dropped from the enum but clients still send
  (Decision: accepted where the docs list the full enum). Result model names
  `chirp-v3-5`, `chirp-v4`, `chirp-v4-5`, ... (`modelName`).
- **customMode** (notes §4.2): custom + vocal needs `style`, `title` and
  `prompt` (the lyrics, up to 3000 characters for V3_5/V4, 5000 for later
  versions); custom + instrumental needs `style` and `title`; non-custom
  needs `prompt` (the idea, up to 500 characters). `style` up to 200
  characters (V3_5/V4) or 1000; `title` up to 80 (generate) or, for extend,
  80 (V3_5, V4, V4_5ALL) / 100 (V4_5, V4_5PLUS, V5, V5_5).
- **Length (Decision):** a track lasts 30 s plus 4 s per lyric line, at most
  240 s; an instrumental or a non-custom prompt lasts 60 s. A lyric line is a
  non-empty line that is not only a section tag such as `[Verse]`.
- **Ids:** music tasks `suno_<32 hex>`, the last hex digit `0`; the track ids
  (`audioId`, `sunoData[].id`) are the task's hex as a UUID with that digit
  replaced by the track's index, so a track id alone (extend's `audioId`)
  names its task. Other families: `lyrics_`, `wav_`, `stems_`, `midi_`,
  `mp4_`, `cover_` + 32 hex; personas `persona_` + 32 hex.
"""

from __future__ import annotations

import re
import secrets
import uuid

from reelserve.errors import ValidationFailed

VERSIONS = ("V3_5", "V4", "V4_5", "V4_5PLUS", "V4_5ALL", "V5", "V5_5")
OLD_VERSIONS = frozenset({"V3_5", "V4"})
MODEL_NAMES = {
    "V3_5": "chirp-v3-5",
    "V4": "chirp-v4",
    "V4_5": "chirp-v4-5",
    "V4_5PLUS": "chirp-v4-5-plus",
    "V4_5ALL": "chirp-v4-5-all",
    "V5": "chirp-v5",
    "V5_5": "chirp-v5-5",
}
IDEA_MAX = 500
TITLE_MAX = 80
TRACKS = 2

BASE_S = 30.0
PER_LINE_S = 4.0
MAX_TRACK_S = 240.0
PLAIN_TRACK_S = 60.0
MAX_UPLOAD_S = 480.0
"""Uploads (cover, extend, add-*) are read up to 8 minutes (V4_5ALL covers: 1 minute)."""

_SECTION = re.compile(r"^\s*\[[^\]]*\]\s*$")
_UUID_HEX = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def prompt_max(version: str) -> int:
    return 3000 if version in OLD_VERSIONS else 5000


def style_max(version: str) -> int:
    return 200 if version in OLD_VERSIONS else 1000


def extend_title_max(version: str) -> int:
    return 80 if version in ("V3_5", "V4", "V4_5ALL") else 100


def lyric_lines(text: str) -> list[str]:
    """The sung lines of lyrics: non-empty, not only a `[Section]` tag."""
    return [line.strip() for line in text.splitlines() if line.strip() and not _SECTION.match(line)]


def track_seconds(lyrics: str | None) -> float:
    """The Decision's length of a track: 30 s + 4 s per lyric line (≤ 240 s); none: 60 s."""
    if lyrics is None:
        return PLAIN_TRACK_S
    lines = len(lyric_lines(lyrics))
    if not lines:
        return PLAIN_TRACK_S
    return min(MAX_TRACK_S, BASE_S + PER_LINE_S * lines)


def limit(field: str, text: str | None, most: int) -> None:
    if text is not None and len(text) > most:
        raise ValidationFailed(field, f"must be at most {most} characters (got {len(text)})")


def custom_fields(
    *,
    custom: bool,
    instrumental: bool,
    prompt: str | None,
    style: str | None,
    title: str | None,
    version: str,
    title_max: int = TITLE_MAX,
) -> None:
    """The customMode rules of generate / upload-cover (notes §4.2)."""
    if custom:
        if not (style or "").strip():
            raise ValidationFailed("style", "is required in custom mode (customMode: true)")
        if not (title or "").strip():
            raise ValidationFailed("title", "is required in custom mode (customMode: true)")
        if not instrumental and not (prompt or "").strip():
            raise ValidationFailed(
                "prompt", "is required in custom mode with vocals: it is sung as the lyrics"
            )
        limit("prompt", prompt, prompt_max(version))
    else:
        if not (prompt or "").strip():
            raise ValidationFailed("prompt", "is required when customMode is false")
        limit("prompt", prompt, IDEA_MAX)
    limit("style", style, style_max(version))
    limit("title", title, title_max)


def new_music_id() -> str:
    """`suno_<32 hex>` whose last digit is 0, so its track ids can name it."""
    return f"suno_{secrets.token_hex(16)[:31]}0"


def track_id(task_id: str, index: int) -> str:
    """The id of track `index` of music task `task_id` (a UUID-shaped string)."""
    hexpart = task_id.removeprefix("suno_")
    if len(hexpart) != 32:  # not one of ours: a stable UUID of it instead
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{task_id}#{index}"))
    raw = hexpart[:31] + format(index, "x")
    return str(uuid.UUID(hex=raw))


def parse_track_id(audio_id: str) -> tuple[str, int] | None:
    """(music task id, track index) of a track id made by `track_id`, else None."""
    text = audio_id.strip().lower()
    if not _UUID_HEX.match(text):
        return None
    raw = text.replace("-", "")
    return (f"suno_{raw[:31]}0", int(raw[31], 16))


def other_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(16)}"
