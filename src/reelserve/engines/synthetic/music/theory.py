"""Music theory for the procedural songs: keys, scales, chords, progressions, tempo.

Everything here is a plain, deterministic choice from a style profile (see
`style.py`) and the seed; nothing is learned. Decisions:
- A key is a tonic pitch class (0 = C) and a mode ("major" | "minor", the
  natural minor scale); an explicit key in the style ("A minor", "F#m",
  "key of Bb") wins over the profile's mode preference.
- Chords are diatonic: triads stacked in thirds on a scale degree, sevenths
  for jazzy profiles. One chord per bar; progressions are common four-bar
  loops (I-V-vi-IV, i-VI-III-VII, ii-V-I...).
- Tempo comes from the profile's range; an explicit "120 bpm" wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_LETTERS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}
# Four-bar loops as 0-based scale degrees.
PROGRESSIONS = {
    "major": ((0, 4, 5, 3), (5, 3, 0, 4), (0, 5, 3, 4), (0, 3, 4, 3), (0, 3, 0, 4)),
    "minor": ((0, 5, 2, 6), (0, 3, 6, 2), (0, 6, 5, 6), (0, 3, 4, 0), (0, 5, 3, 4)),
}
JAZZ_PROGRESSIONS = {
    "major": ((1, 4, 0, 5), (0, 5, 1, 4), (2, 5, 1, 4)),
    "minor": ((1, 4, 0, 5), (0, 3, 1, 4), (0, 5, 1, 4)),
}
_BPM = re.compile(r"(\d{2,3}(?:\.\d+)?)\s*(?:bpm|beats per minute)", re.IGNORECASE)
_KEY_MODE = re.compile(r"\b([A-G])([#b]?)\s*(major|minor|maj|min)\b", re.IGNORECASE)
_KEY_OF = re.compile(r"\bkey of ([A-G])([#b]?)(m?)\b", re.IGNORECASE)
_KEY_SHORT = re.compile(r"(?<![\w#])([A-G])([#b]?)(m?)(?![\w#])")


@dataclass(frozen=True)
class Key:
    """A tonic pitch class (0 = C) and a mode ("major" or "minor")."""

    tonic: int
    mode: str

    @property
    def name(self) -> str:
        return f"{NOTE_NAMES[self.tonic]} {self.mode}"

    @property
    def scale(self) -> tuple[int, ...]:
        return SCALES[self.mode]

    def degree_pitch(self, degree: int, octave_pitch: int) -> int:
        """The MIDI pitch of scale `degree` (any integer: wraps by octaves) above `octave_pitch`.

        `octave_pitch` is the MIDI pitch of the tonic in the octave of degree 0.
        """
        octave, step = divmod(degree, 7)
        return octave_pitch + 12 * octave + self.scale[step]

    def tonic_pitch(self, low: int) -> int:
        """The lowest MIDI pitch >= `low` whose pitch class is the tonic."""
        return low + (self.tonic - low) % 12

    def to_dict(self) -> dict[str, object]:
        return {"tonic": self.tonic, "mode": self.mode, "name": self.name}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Key:
        return cls(int(str(data["tonic"])), str(data["mode"]))


def pitch_class(letter: str, accidental: str) -> int:
    value = _LETTERS[letter.upper()]
    if accidental == "#":
        value += 1
    elif accidental == "b":
        value -= 1
    return value % 12


def parse_key(text: str) -> Key | None:
    """An explicit key in `text`: "A minor", "F# major", "key of Bb", "C#m", "Eb"; else None.

    Short forms ("Am", "Eb") need the capital letter so the article "a" is not a key.
    """
    match = _KEY_MODE.search(text)
    if match and match.group(1).isupper():
        mode = "minor" if match.group(3).lower().startswith("min") else "major"
        return Key(pitch_class(match.group(1), match.group(2)), mode)
    match = _KEY_OF.search(text)
    if match:
        mode = "minor" if match.group(3) else "major"
        return Key(pitch_class(match.group(1), match.group(2)), mode)
    match = _KEY_SHORT.search(text)
    if match and (match.group(2) or match.group(3)):
        mode = "minor" if match.group(3) else "major"
        return Key(pitch_class(match.group(1), match.group(2)), mode)
    return None


def parse_tempo(text: str) -> float | None:
    """An explicit tempo ("120 bpm") in `text`, clamped to 40-220; else None."""
    match = _BPM.search(text)
    if not match:
        return None
    return float(min(220.0, max(40.0, float(match.group(1)))))


def choose_key(style: str, minor_bias: float, rng: np.random.Generator) -> Key:
    """The style's explicit key, else a tonic from the seed and minor with `minor_bias` odds."""
    explicit = parse_key(style)
    if explicit is not None:
        return explicit
    tonic = int(rng.integers(0, 12))
    return Key(tonic, "minor" if float(rng.random()) < minor_bias else "major")


def choose_tempo(style: str, low: float, high: float, rng: np.random.Generator) -> float:
    """The style's explicit bpm, else a whole number in the profile's range."""
    explicit = parse_tempo(style)
    if explicit is not None:
        return explicit
    return float(round(low + (high - low) * float(rng.random())))


def chord_pitches(key: Key, degree: int, root_pitch: int, sevenths: bool) -> list[int]:
    """A diatonic chord on `degree`: scale thirds stacked, the tonic being at `root_pitch`."""
    count = 4 if sevenths else 3
    return [key.degree_pitch(degree + 2 * k, root_pitch) for k in range(count)]


def chord_name(key: Key, degree: int, sevenths: bool) -> str:
    """A readable chord symbol ("Am", "G7", "Cmaj7", "Bdim")."""
    pcs = [p % 12 for p in chord_pitches(key, degree, key.tonic, sevenths)]
    root = pcs[0]
    third = (pcs[1] - root) % 12
    fifth = (pcs[2] - root) % 12
    quality = "m" if third == 3 else ""
    if fifth == 6:
        quality = "dim"
    name = NOTE_NAMES[root] + quality
    if sevenths:
        seventh = (pcs[3] - root) % 12
        name += "maj7" if seventh == 11 and quality == "" else "7"
    return name


def choose_progression(key: Key, jazzy: bool, rng: np.random.Generator) -> tuple[int, ...]:
    table = JAZZ_PROGRESSIONS if jazzy else PROGRESSIONS
    options = table[key.mode]
    return options[int(rng.integers(0, len(options)))]


def midi_to_hz(pitch: float) -> float:
    return float(440.0 * 2.0 ** ((pitch - 69.0) / 12.0))


def parse_sound_key(name: str) -> Key | None:
    """Suno sounds' key field: "Cm", "C#", "Bb"..."B", "Any" (None: choose one)."""
    text = name.strip()
    if not text or text.lower() == "any":
        return None
    match = re.fullmatch(r"([A-Ga-g])([#b]?)(m|min|minor|maj|major)?", text)
    if not match:
        return None
    mode = (
        "minor"
        if (match.group(3) or "").startswith("m")
        and match.group(3)
        not in (
            "maj",
            "major",
        )
        else "major"
    )
    return Key(pitch_class(match.group(1), match.group(2)), mode)
