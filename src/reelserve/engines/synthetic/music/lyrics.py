"""Lyrics: the line rule the server shares, sections and syllables, and a template lyricist.

`lyric_lines` is the rule for the track-length Decision (30 s + 4 s per
line): a lyric line is a non-empty line that is not only a "[Section]" tag.
`write_lyrics` is a template writer, not a language model: it picks the
idea's content words, puts them into fixed line templates whose last word
comes from a rhyme family (couplets rhyme, AABB), and titles the song with
its main word. Deterministic from (prompt, seed, variant).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from reelserve.engines.synthetic.dsp import seeded_rng

_TAG = re.compile(r"^\s*\[([^\]]*)\]\s*$")
_WORD = re.compile(r"[A-Za-z\u00C0-\u024F']+|[^\sA-Za-z\u00C0-\u024F']+")
_VOWEL_GROUP = re.compile(r"[aeiouy\u00E0-\u00FF]+", re.IGNORECASE)
_STOP_TEXT = (
    "a an the and or but of to in on at for with about from by into over under is are was were "
    "be been being it its this that these those my your our their his her me you we they i he "
    "she them us song songs music track lyrics write make create some very so just like as "
    "want need please can could would should will what who how when where why which not no"
)
STOPWORDS = frozenset(_STOP_TEXT.split(" "))
# Rhyme families of nouns: every template ends in "... the {r}" or "... my {r}".
RHYMES = (
    ("night", "light", "flight", "sight"),
    ("heart", "start", "art", "chart"),
    ("fire", "desire", "wire", "choir"),
    ("sky", "eye", "lullaby", "butterfly"),
    ("rain", "train", "lane", "chain"),
    ("day", "way", "bay", "ray"),
    ("dream", "stream", "beam", "team"),
    ("sea", "tree", "key", "melody"),
    ("sound", "ground", "playground", "merry-go-round"),
    ("time", "rhyme", "chime", "climb"),
    ("door", "floor", "shore", "core"),
    ("moon", "tune", "afternoon", "balloon"),
)
_VERSE = (
    "Walking through the {w} into the {r}",
    "Every {w} is calling from the {r}",
    "I can feel the {w} beneath the {r}",
    "Holding on to {w} and the {r}",
    "Whispers of the {w} across the {r}",
    "Down the road of {w} toward the {r}",
    "Counting every {w} until the {r}",
    "Where the {w} meets the {r}",
)
_CHORUS = (
    "Oh {t}, carry me to the {r}",
    "{t}, {t}, you are my {r}",
    "We are {w} beneath the {r}",
    "Sing it loud for {w} and the {r}",
    "All we need is {w} and the {r}",
    "Lift me up with {w} to the {r}",
)
_BRIDGE = (
    "And if the {w} should fall into the {r}",
    "I will find the {w} inside the {r}",
    "Slowly now the {w} becomes the {r}",
)
_FILLERS = ("love", "summer", "river", "city", "morning", "shadow", "ocean", "thunder", "wonder")


def lyric_lines(text: str) -> list[str]:
    """The lines that are sung: non-empty, not only a "[Section]" tag (stripped)."""
    return [line.strip() for line in text.splitlines() if line.strip() and not _TAG.match(line)]


@dataclass(frozen=True)
class Section:
    """A lyric section: its tag ("Verse", "Chorus"...) and its sung lines."""

    tag: str
    lines: tuple[str, ...]


def sections(text: str) -> list[Section]:
    """`text` split at "[Tag]" lines; lines before any tag are a "Verse"; empty sections dropped."""
    out: list[Section] = []
    tag, lines = "Verse", list[str]()
    for raw in text.splitlines():
        match = _TAG.match(raw)
        if match:
            if lines:
                out.append(Section(tag, tuple(lines)))
            tag, lines = match.group(1).strip() or "Verse", []
        elif raw.strip():
            lines.append(raw.strip())
    if lines:
        out.append(Section(tag, tuple(lines)))
    return out


def words(line: str) -> list[str]:
    """The words of a line as written (punctuation stays on its word)."""
    return line.split()


def syllables(word: str) -> list[tuple[str, str]]:
    """A word as (onset consonants, vowel nucleus) pairs: one per vowel group, at least one.

    A silent final "e" after a consonant is not a syllable ("home" has one).
    Words with no Latin vowel (digits, other scripts) sing one "a" per two characters.
    """
    letters = "".join(ch for ch in word.lower() if ch.isalpha())
    if letters.endswith("e") and len(letters) > 2 and letters[-2] not in "aeiouyl":
        core = letters[:-1]
    else:
        core = letters
    groups = list(_VOWEL_GROUP.finditer(core))
    if not groups:
        count = max(1, len(letters or word) // 2)
        return [("", "a")] * min(count, 4)
    out: list[tuple[str, str]] = []
    previous_end = 0
    for match in groups:
        out.append((core[previous_end : match.start()], match.group(0)))
        previous_end = match.end()
    return out


def content_words(prompt: str) -> list[str]:
    """The idea's words worth singing: alphabetic, 3+ letters, not stopwords, first-seen order."""
    seen: list[str] = []
    for token in re.findall(r"[A-Za-z]+", prompt.lower()):
        if len(token) >= 3 and token not in STOPWORDS and token not in seen:
            seen.append(token)
    return seen


def write_lyrics(prompt: str, seed: int, variant: int = 0, lines: int = 20) -> tuple[str, str]:
    """(title, lyrics) for the idea `prompt`: sections of rhymed couplets, about `lines` lines.

    `lines` >= 16 gives Verse, Chorus, Verse, Chorus, Bridge, Chorus; fewer
    gives Verse and Chorus (8 lines fit a 60 s song).
    """
    rng = seeded_rng("lyrics", prompt, seed, variant)
    keywords = content_words(prompt) or list(_FILLERS[:3])
    fill = [w for w in _FILLERS if w not in keywords]
    pool = keywords + [fill[int(i)] for i in rng.permutation(len(fill))[:4]]
    theme = keywords[0]
    title = _title(keywords, rng)
    chorus = _stanza(_CHORUS, 4, pool, theme, rng)
    if lines >= 16:
        plan = [
            ("Verse", _stanza(_VERSE, 4, pool, theme, rng)),
            ("Chorus", chorus),
            ("Verse 2", _stanza(_VERSE, 4, pool, theme, rng)),
            ("Chorus", chorus),
            ("Bridge", _stanza(_BRIDGE, 2, pool, theme, rng)),
            ("Chorus", chorus),
        ]
    else:
        half = max(2, (lines // 2) // 2 * 2)
        plan = [
            ("Verse", _stanza(_VERSE, half, pool, theme, rng)),
            ("Chorus", _stanza(_CHORUS, max(2, lines - half), pool, theme, rng)),
        ]
    text = "\n\n".join(f"[{tag}]\n" + "\n".join(body) for tag, body in plan)
    return title, text


def _title(keywords: list[str], rng: np.random.Generator) -> str:
    main = keywords[0].capitalize()
    if len(keywords) > 1 and float(rng.random()) < 0.5:
        return f"{main} and {keywords[1].capitalize()}"
    endings = ("Tonight", "Forever", "Again", "Song", "Skies", "Heart")
    return f"{main} {endings[int(rng.integers(0, len(endings)))]}"


def _stanza(
    templates: tuple[str, ...], count: int, pool: list[str], theme: str, rng: np.random.Generator
) -> list[str]:
    """`count` lines, in rhyming couplets (each pair ends in the same rhyme family)."""
    out: list[str] = []
    order = rng.permutation(len(templates))
    for pair in range((count + 1) // 2):
        family = RHYMES[int(rng.integers(0, len(RHYMES)))]
        ends = [family[int(i)] for i in rng.permutation(len(family))[:2]]
        for k in range(2):
            if len(out) == count:
                break
            template = templates[int(order[(2 * pair + k) % len(order)])]
            word = pool[int(rng.integers(0, len(pool)))]
            line = template.format(w=word, r=ends[k % len(ends)], t=theme.capitalize())
            out.append(line[0].upper() + line[1:])
    return out
