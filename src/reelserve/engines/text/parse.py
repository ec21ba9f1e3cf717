"""The lyricist's prompt and the reading of its answer: torch-free, so unit-testable.

The model is asked for a title on the first line, then the lyrics in
sections tagged [Verse], [Chorus], [Bridge]. Its answer is read leniently:
thinking (`<think>...</think>`, as Qwen3 writes when thinking is on) is
dropped, a "Title:" prefix, Markdown marks and quotes come off the title,
and when the first line is not a title (a section tag, a line too long, or
the answer is a single line) the title comes from the idea instead.
"""

from __future__ import annotations

import re

SYSTEM = (
    "You are a professional songwriter. You write original song lyrics that rhyme and "
    "can be sung. You answer with the song only, no comments."
)
USER = (
    "Write the lyrics of a song about: {idea}\n\n"
    "Answer in this form: the first line is the song's title, alone on its line; then the "
    "lyrics, in sections, each starting with its tag on its own line: [Verse], [Chorus], "
    "[Verse], [Chorus], [Bridge], [Chorus]."
)
TITLE_MAX = 80
"""A longer first line is taken for lyrics, not a title."""

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_TAG = re.compile(r"^\s*\[[^\]]*\]\s*$")
_TITLE_PREFIX = re.compile(r"^\s*(?:song\s+)?title\s*[:\-]\s*", re.IGNORECASE)
_MARKS = " \t#*_`\"'“”‘’«»"
_IDEA_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_FILLER = frozenset(
    ("a", "an", "the", "about", "song", "songs", "of", "lyrics", "write", "me", "please")
)


def messages(idea: str) -> list[dict[str, str]]:
    """The chat the model answers (system: a songwriter; user: the idea and the form)."""
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": USER.format(idea=idea.strip())},
    ]


def strip_thinking(raw: str) -> str:
    """The answer without thinking: closed blocks dropped, and before a lone `</think>`
    (a template that opens the block in the prompt), everything; an unclosed `<think>`
    (thinking cut off by the token limit) leaves no answer."""
    text = _THINK.sub("", raw)
    lower = text.lower()
    if "</think>" in lower:
        text = text[lower.rindex("</think>") + len("</think>") :]
    elif "<think>" in lower:
        text = text[: lower.index("<think>")]
    return text


def clean(raw: str) -> str:
    """Thinking, control characters and trailing spaces gone; newlines normalised."""
    text = strip_thinking(raw).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def idea_title(idea: str) -> str:
    """A title from the idea: its first few content words, capitalised ("Song" if none)."""
    every = _IDEA_WORD.findall(idea)
    words = [w for w in every if w.lower() not in _FILLER] or every
    title = " ".join(w[:1].upper() + w[1:] for w in words[:5])
    return title[:TITLE_MAX].strip() or "Song"


def _title(line: str) -> str:
    title = _TITLE_PREFIX.sub("", line.strip(_MARKS)).strip(_MARKS)
    return title if len(title) <= TITLE_MAX and not _TAG.match(line) else ""


def parse_lyrics(raw: str, idea: str) -> dict[str, str]:
    """One sheet, {"title", "text"}, from the model's answer (see the module docstring)."""
    lines = clean(raw).split("\n")
    first = lines[0]
    rest = "\n".join(lines[1:]).strip()
    title = _title(first) if rest else ""
    if title:
        return {"title": title, "text": rest}
    return {"title": idea_title(idea), "text": "\n".join(lines).strip()}
