"""Style words to an arrangement profile, and Suno's "boost style" as a plain text expansion.

A profile is a small fixed table entry (tempo range, how likely minor is,
sevenths or triads, drum and bass patterns, which instruments play); the
first genre word found in the style picks it ("pop" when none matches), and
mood words adjust it: "sad", "ballad", "melancholy", "dark" make it minor and
slower; "happy", "upbeat", "energetic" major and faster. `boost_style` is a
deterministic expansion of the same table into words (genre, tempo, key,
instruments, mood) — no model, and it says nothing it does not do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from reelserve.engines.synthetic.music.theory import parse_key, parse_tempo


@dataclass(frozen=True)
class Profile:
    """How a style is played: tempo range, mode odds, harmony, patterns and instruments."""

    name: str
    tempo: tuple[float, float]
    minor_bias: float
    sevenths: bool
    drums: str  # a pattern name in `compose.DRUM_PATTERNS` ("none": no drums)
    bass: str  # a pattern name in `compose.BASS_PATTERNS`
    instruments: tuple[str, ...]  # parts that play besides drums, bass and the voice
    swing: float = 0.0  # 0: straight eighths; 0.33: triplet swing
    lead: str = "synth"  # the part that plays the melody of an instrumental
    mood: str = "warm"


PROFILES: dict[str, Profile] = {
    "pop": Profile("pop", (96, 124), 0.35, False, "pop", "pop", ("keyboard", "guitar", "synth")),
    "rock": Profile(
        "rock", (110, 150), 0.4, False, "rock", "eighths", ("guitar", "keyboard"), lead="guitar"
    ),
    "metal": Profile(
        "metal", (140, 180), 0.85, False, "rock", "eighths", ("guitar",), lead="guitar", mood="dark"
    ),
    "edm": Profile(
        "edm", (120, 132), 0.5, False, "edm", "offbeat", ("synth", "keyboard"), mood="euphoric"
    ),
    "hiphop": Profile(
        "hiphop", (82, 98), 0.6, False, "hiphop", "long", ("keyboard", "synth"), swing=0.12
    ),
    "jazz": Profile(
        "jazz",
        (100, 150),
        0.3,
        True,
        "jazz",
        "walking",
        ("keyboard", "brass"),
        swing=0.33,
        lead="brass",
        mood="smoky",
    ),
    "lofi": Profile(
        "lofi", (70, 88), 0.5, True, "hiphop", "long", ("keyboard",), swing=0.2, lead="keyboard"
    ),
    "folk": Profile(
        "folk", (84, 112), 0.3, False, "folk", "half", ("guitar", "strings"), lead="woodwinds"
    ),
    "ballad": Profile(
        "ballad",
        (64, 80),
        0.75,
        False,
        "ballad",
        "half",
        ("keyboard", "strings"),
        lead="keyboard",
        mood="tender",
    ),
    "classical": Profile(
        "classical",
        (66, 96),
        0.45,
        False,
        "none",
        "half",
        ("strings", "keyboard", "woodwinds"),
        lead="strings",
        mood="graceful",
    ),
    "ambient": Profile(
        "ambient", (60, 80), 0.5, True, "none", "long", ("strings", "synth"), mood="calm"
    ),
    "funk": Profile(
        "funk", (100, 118), 0.3, True, "funk", "funk", ("guitar", "keyboard", "brass"), swing=0.1
    ),
    "reggae": Profile(
        "reggae", (70, 90), 0.3, False, "reggae", "half", ("guitar", "keyboard"), lead="keyboard"
    ),
}
GENRE_WORDS: dict[str, tuple[str, ...]] = {
    "edm": ("edm", "house", "techno", "trance", "electronic", "dance", "dubstep", "synthwave"),
    "metal": ("metal", "thrash", "hardcore"),
    "rock": ("rock", "punk", "grunge", "indie", "alternative"),
    "hiphop": ("hip hop", "hip-hop", "hiphop", "rap", "trap", "drill", "boom bap"),
    "jazz": ("jazz", "swing", "bebop", "blues", "bossa"),
    "lofi": ("lofi", "lo-fi", "chillhop"),
    "folk": ("folk", "acoustic", "country", "bluegrass", "singer-songwriter"),
    "ballad": ("ballad",),
    "classical": ("classical", "orchestral", "cinematic", "piano solo", "baroque", "epic"),
    "ambient": ("ambient", "chill", "meditation", "drone", "relax"),
    "funk": ("funk", "disco", "soul", "r&b", "rnb", "groove"),
    "reggae": ("reggae", "ska", "dub"),
    "pop": ("pop", "k-pop", "kpop", "synthpop"),
}
SAD_WORDS = ("sad", "ballad", "melancholy", "melancholic", "dark", "sorrow", "lonely", "moody")
HAPPY_WORDS = ("happy", "upbeat", "energetic", "joyful", "bright", "fun", "party", "cheerful")
FAST_WORDS = ("fast", "rock", "edm", "energetic", "upbeat", "punk", "party", "intense")
SLOW_WORDS = ("slow", "sad", "ballad", "calm", "gentle", "lullaby", "sleep")


def _has(text: str, words: tuple[str, ...]) -> bool:
    return any(re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text) for w in words)


def genre_of(style: str) -> str:
    """The first genre (in `GENRE_WORDS` order) whose word is in the style; "pop" when none."""
    text = style.lower()
    for genre, words in GENRE_WORDS.items():
        if _has(text, words):
            return genre
    return "pop"


def profile_for(style: str, negative: str = "") -> Profile:
    """The profile for `style`, adjusted by its mood words and without negated instruments."""
    text = style.lower()
    profile = PROFILES[genre_of(style)]
    low, high = profile.tempo
    if _has(text, SAD_WORDS):
        profile = replace(profile, minor_bias=1.0, mood="melancholy")
        low, high = low * 0.8, min(high * 0.85, 96.0)
    elif _has(text, HAPPY_WORDS):
        profile = replace(profile, minor_bias=0.0, mood="bright")
    if _has(text, FAST_WORDS) and not _has(text, SLOW_WORDS):
        low, high = max(low, 118.0), max(high, 136.0)
    elif _has(text, SLOW_WORDS):
        low, high = min(low, 62.0), min(high, 84.0)
    profile = replace(profile, tempo=(low, max(low, high)))
    negated = negative.lower()
    if negated:
        kept = tuple(i for i in profile.instruments if not _has(negated, _INSTRUMENT_WORDS[i]))
        drums = "none" if _has(negated, ("drums", "percussion")) else profile.drums
        profile = replace(profile, instruments=kept, drums=drums)
    return profile


_INSTRUMENT_WORDS: dict[str, tuple[str, ...]] = {
    "keyboard": ("piano", "keys", "keyboard", "rhodes"),
    "guitar": ("guitar", "guitars"),
    "synth": ("synth", "synths", "synthesizer"),
    "strings": ("strings", "violin", "cello"),
    "brass": ("brass", "horns", "trumpet", "saxophone", "sax"),
    "woodwinds": ("flute", "woodwinds", "clarinet"),
}
_INSTRUMENT_TEXT = {
    "keyboard": "piano/keys",
    "guitar": "guitar",
    "synth": "synth lead",
    "strings": "strings",
    "brass": "brass",
    "woodwinds": "flute",
}
_DRUM_TEXT = {
    "pop": "punchy pop drums",
    "rock": "driving rock drums",
    "edm": "four-on-the-floor kick",
    "hiphop": "boom-bap beat",
    "jazz": "brushed swing kit",
    "folk": "light kit",
    "ballad": "half-time drums",
    "funk": "syncopated funk drums",
    "reggae": "one-drop groove",
    "none": "no drums",
}


def boost_style(content: str) -> str:
    """A fuller style line from a short one, deterministically (Suno's /style/generate).

    The genre, a tempo range (or the explicit bpm), the mode (or the explicit
    key), the instruments and the mood this engine would actually use for
    `content`, after the original words: "Pop, Mysterious" ->
    "Pop, Mysterious, pop, 96-124 bpm, major or minor key, piano/keys, guitar,
    synth lead, punchy pop drums, melodic bass, warm mood".
    """
    original = ", ".join(part.strip() for part in content.split(",") if part.strip())
    profile = profile_for(content)
    explicit_tempo = parse_tempo(content)
    tempo = (
        f"{explicit_tempo:g} bpm"
        if explicit_tempo is not None
        else f"{profile.tempo[0]:.0f}-{profile.tempo[1]:.0f} bpm"
    )
    key = parse_key(content)
    if key is not None:
        key_text = key.name
    elif profile.minor_bias >= 0.99:
        key_text = "minor key"
    elif profile.minor_bias <= 0.01:
        key_text = "major key"
    else:
        key_text = "minor key" if profile.minor_bias > 0.5 else "major or minor key"
    words = [profile.name, tempo, key_text]
    words += [_INSTRUMENT_TEXT[i] for i in profile.instruments]
    words += [
        _DRUM_TEXT.get(profile.drums, "drums"),
        f"{profile.bass} bass",
        f"{profile.mood} mood",
    ]
    if profile.swing:
        words.append("swung eighths")
    seen = {w.lower() for w in original.split(", ")}
    extra = [w for w in words if w.lower() not in seen]
    return ", ".join([original, *extra]) if original else ", ".join(extra)
