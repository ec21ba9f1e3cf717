"""The score: a section plan on a bar grid, chords, and every part's notes, as JSON-able lists.

Procedural composition by fixed rules and seeded choices (not AI):
- Time: 4/4 bars of 60/tempo s beats from `beat0`. A sung line gets one bar
  below 100 bpm, two bars from 100 bpm (about 2.4-4.8 s: the length Decision
  gives 4 s a line); the phrase fills at most 3/4 of its slot, so phrases are
  separated by audible breaths. Sections are separated by a bar, the song
  starts with a two-bar intro and the rest of the length is the outro; when
  the lyrics do not fit, gaps, then the intro, then trailing lines are dropped.
- Harmony: one diatonic chord per bar, the verse and the chorus each loop a
  four-bar progression.
- Melody: one syllable per note on an eighth (or sixteenth) grid, a seeded
  walk on the scale that starts and ends on chord tones; a line's melody is
  seeded by its text, so a repeated chorus is sung the same way.
- Parts: drums (General MIDI pitches 36 kick, 38 snare, 39 clap, 42/46 hats,
  49 crash, 51 ride), bass, keyboard, guitar, synth, strings, brass,
  woodwinds and backing vocals ("ah" on the chord's third in choruses), by
  the profile's patterns; each note is [pitch, start_s, end_s, velocity 0-1].
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reelserve.engines.synthetic.dsp import seeded_rng
from reelserve.engines.synthetic.music import lyrics as lyr
from reelserve.engines.synthetic.music.style import Profile
from reelserve.engines.synthetic.music.theory import Key, chord_name, chord_pitches

Note = list[float]
"""[pitch (MIDI), start (s), end (s), velocity (0-1)]."""

# Steps of a 16-step bar: (GM drum pitch, step, velocity).


def _hats(
    pitch: int, steps: range | tuple[int, ...], velocity: float
) -> tuple[tuple[int, int, float], ...]:
    return tuple((pitch, s, velocity) for s in steps)


DRUM_PATTERNS: dict[str, tuple[tuple[int, int, float], ...]] = {
    "pop": (
        *((36, 0, 1.0), (36, 6, 0.7), (36, 8, 0.9), (38, 4, 0.9), (38, 12, 0.9)),
        *_hats(42, range(0, 16, 2), 0.5),
    ),
    "rock": (
        *((36, 0, 1.0), (36, 8, 1.0), (36, 10, 0.7), (38, 4, 1.0), (38, 12, 1.0)),
        *_hats(42, range(0, 16, 2), 0.6),
    ),
    "edm": (
        *_hats(36, (0, 4, 8, 12), 1.0),
        *((39, 4, 0.8), (39, 12, 0.8)),
        *_hats(46, (2, 6, 10, 14), 0.5),
    ),
    "hiphop": (
        *((36, 0, 1.0), (36, 7, 0.8), (36, 10, 0.9), (38, 4, 1.0), (38, 12, 1.0)),
        *_hats(42, range(0, 16, 2), 0.5),
        *_hats(42, range(1, 16, 2), 0.35),
    ),
    "jazz": (*((36, 0, 0.4), (38, 12, 0.3)), *_hats(51, (0, 4, 6, 8, 12, 14), 0.5)),
    "folk": (
        *((36, 0, 0.8), (36, 8, 0.7), (38, 4, 0.5), (38, 12, 0.5)),
        *_hats(42, (0, 4, 8, 12), 0.35),
    ),
    "ballad": (*((36, 0, 0.8), (36, 10, 0.5), (38, 8, 0.8)), *_hats(42, range(0, 16, 4), 0.35)),
    "funk": (
        *((36, 0, 1.0), (36, 3, 0.6), (36, 10, 0.8), (38, 4, 1.0), (38, 12, 1.0), (38, 15, 0.3)),
        *_hats(42, range(0, 16, 4), 0.6),
        *_hats(42, tuple(s for s in range(16) if s % 4), 0.4),
    ),
    "reggae": (*((36, 8, 1.0), (38, 8, 0.8)), *_hats(42, range(2, 16, 4), 0.4)),
    "none": (),
}
# (step, length in steps, chord-tone index: 0 root, 1 third, 2 fifth, 7 octave).
BASS_PATTERNS: dict[str, tuple[tuple[int, int, int], ...]] = {
    "pop": ((0, 6, 0), (6, 2, 0), (8, 6, 0), (14, 2, 2)),
    "eighths": tuple((s, 2, 0) for s in range(0, 16, 2)),
    "offbeat": tuple((s, 2, 0) for s in (2, 6, 10, 14)),
    "long": ((0, 10, 0), (10, 6, 0)),
    "half": ((0, 8, 0), (8, 8, 2)),
    "walking": ((0, 4, 0), (4, 4, 1), (8, 4, 2), (12, 4, 7)),
    "funk": ((0, 3, 0), (3, 1, 7), (6, 2, 0), (10, 2, 2), (12, 2, 7), (14, 2, 0)),
}
_VOICE_LOW = {"m": 48, "f": 57}
_SLOT_FILL = 0.75


@dataclass
class Plan:
    """What to compose: the musical frame, the lyrics (or none), and the span it covers."""

    key: Key
    tempo: float
    profile: Profile
    seed: int
    end_s: float  # the score plays until here (the track's end)
    start_s: float = 0.0  # ...from here (a continuation or a replaced section)
    beat0: float = 0.0  # the time of a downbeat: the bar grid is beat0 + k * bar
    lyric_sections: list[lyr.Section] = field(default_factory=list)
    voice: dict[str, Any] | None = None  # None: no vocals
    melody: list[Note] | None = None  # a given lead melody (cover), instead of a composed one
    parts: frozenset[str] | None = None  # only these parts (None: the profile's)
    loop: bool = False
    intro_bars: int = 2
    outro: bool = True


def compose(plan: Plan) -> dict[str, Any]:
    """The score for `plan`: sections, chords, notes per part, syllables and words."""
    bar = 240.0 / plan.tempo
    first_bar = math.floor((plan.start_s - plan.beat0) / bar + 1e-6)
    last_bar = math.ceil((plan.end_s - plan.beat0) / bar - 1e-6)
    rng = seeded_rng("arrangement", plan.seed, plan.profile.name, plan.key.name)
    sections = _layout(plan, first_bar, last_bar)
    verse_prog, chorus_prog = _progressions(plan, rng)
    chords = _chords(plan, sections, verse_prog, chorus_prog, bar)
    score: dict[str, Any] = {
        "seed": plan.seed,
        "key": plan.key.to_dict(),
        "tempo": plan.tempo,
        "beat0": plan.beat0,
        "profile": _profile_dict(plan.profile),
        "progressions": {"verse": list(verse_prog), "chorus": list(chorus_prog)},
        "span": [plan.start_s, plan.end_s],
        "loop": plan.loop,
        "sections": [
            {"tag": s.tag, "start": _t(plan, s.first, bar), "end": _t(plan, s.last, bar)}
            for s in sections
        ],
        "chords": [[c.start, c.end, c.degree, c.name, c.pitches] for c in chords],
        "voice": plan.voice,
    }
    syllables, words, melody = _vocal_line(plan, sections, chords, bar)
    inside = [i for i, s in enumerate(syllables) if plan.start_s <= s[0] and s[1] <= plan.end_s]
    syllables, melody = [syllables[i] for i in inside], [melody[i] for i in inside]
    words = [w for w in words if plan.start_s <= w[1] and w[2] <= plan.end_s]
    score["syllables"] = syllables
    score["words"] = words
    notes = _instrument_notes(plan, sections, chords, bar, rng, bool(syllables))
    notes["vocals"] = melody
    backing = _backing(plan, sections, chords) if plan.voice is not None else []
    notes["backing_vocals"] = [[p, s, e, v] for s, e, p, v, _ in backing]
    score["backing_syllables"] = [[s, e, p, "a", ""] for s, e, p, _, _ in backing]
    score["notes"] = _clip_notes(notes, plan)
    return score


@dataclass(frozen=True)
class _Section:
    tag: str
    first: int  # bar index (inclusive)
    last: int  # bar index (exclusive)
    lines: tuple[str, ...] = ()

    @property
    def chorus(self) -> bool:
        return self.tag.lower().startswith(("chorus", "hook", "refrain", "drop"))


@dataclass(frozen=True)
class _Chord:
    start: float
    end: float
    degree: int
    name: str
    pitches: list[int]


def _t(plan: Plan, bar_index: int, bar: float) -> float:
    return round(plan.beat0 + bar_index * bar, 6)


def bars_per_line(tempo: float) -> int:
    """One bar a line below 100 bpm, two from 100 bpm: a line's slot is 2.4-4.8 s."""
    return 2 if tempo >= 100.0 else 1


def _layout(plan: Plan, first: int, last: int) -> list[_Section]:
    total = last - first
    if plan.loop:
        return [_Section("Loop", first, last)]
    if not plan.lyric_sections:
        return _instrumental_layout(plan, first, last)
    per_line = bars_per_line(plan.tempo)
    groups = [(s.tag, list(s.lines)) for s in plan.lyric_sections]
    intro, gap = min(plan.intro_bars, 2), 1
    room = total - (1 if plan.outro else 0)

    def needed(intro_bars: int, gap_bars: int) -> int:
        sung = sum(len(lines) for _, lines in groups) * per_line
        return intro_bars + sung + gap_bars * max(0, len(groups) - 1)

    while needed(intro, gap) > room and (gap or intro):
        if gap:
            gap = 0
        else:
            intro -= 1
    while groups and needed(intro, gap) > room:
        groups[-1][1].pop()
        if not groups[-1][1]:
            groups.pop()
    out: list[_Section] = []
    cursor = first
    if intro:
        out.append(_Section("Intro", cursor, cursor + intro))
        cursor += intro
    for index, (tag, lines) in enumerate(groups):
        if index and gap:
            out.append(_Section("Break", cursor, cursor + gap))
            cursor += gap
        out.append(_Section(tag, cursor, cursor + len(lines) * per_line, tuple(lines)))
        cursor += len(lines) * per_line
    if cursor < last:
        out.append(_Section("Outro", cursor, last))
    return out


def _instrumental_layout(plan: Plan, first: int, last: int) -> list[_Section]:
    out: list[_Section] = []
    cursor = first
    intro = min(plan.intro_bars, max(0, last - first - 1))
    if intro:
        out.append(_Section("Intro", cursor, cursor + intro))
        cursor += intro
    length = 8 if plan.tempo >= 100 else 4
    tags = ("Verse", "Chorus", "Verse", "Chorus", "Bridge", "Chorus")
    index = 0
    while cursor < last - (1 if plan.outro else 0):
        end = min(cursor + length, last - (1 if plan.outro else 0))
        out.append(_Section(tags[index % len(tags)], cursor, end))
        cursor, index = end, index + 1
    if cursor < last:
        out.append(_Section("Outro", cursor, last))
    return out


def _progressions(plan: Plan, rng: np.random.Generator) -> tuple[tuple[int, ...], ...]:
    from reelserve.engines.synthetic.music.theory import choose_progression

    key_rng = seeded_rng("progression", plan.key.name, plan.profile.name, plan.seed)
    verse = choose_progression(plan.key, plan.profile.sevenths, key_rng)
    chorus = choose_progression(plan.key, plan.profile.sevenths, key_rng)
    del rng
    return verse, chorus


def _chords(
    plan: Plan,
    sections: list[_Section],
    verse: tuple[int, ...],
    chorus: tuple[int, ...],
    bar: float,
) -> list[_Chord]:
    out = []
    sevenths = plan.profile.sevenths
    for section in sections:
        prog = chorus if section.chorus else verse
        for b in range(section.first, section.last):
            degree = prog[(b - section.first) % len(prog)]
            pitches = chord_pitches(plan.key, degree, plan.key.tonic_pitch(48), sevenths)
            start, end = _t(plan, b, bar), _t(plan, b + 1, bar)
            out.append(_Chord(start, end, degree, chord_name(plan.key, degree, sevenths), pitches))
    return out


def _chord_at(chords: Sequence[_Chord], time: float) -> _Chord:
    for chord in chords:
        if chord.start <= time < chord.end:
            return chord
    return chords[-1] if time >= chords[-1].start else chords[0]


def _vocal_line(
    plan: Plan, sections: list[_Section], chords: list[_Chord], bar: float
) -> tuple[list[list[Any]], list[list[Any]], list[Note]]:
    """Syllables [start, end, pitch, vowel, onset], words [text, start, end] and melody notes."""
    if plan.voice is None or not chords:
        return [], [], []
    low = int(plan.voice.get("low", _VOICE_LOW.get(str(plan.voice.get("gender")), 52)))
    tonic = plan.key.tonic_pitch(low)
    per_line = bars_per_line(plan.tempo)
    syllables: list[list[Any]] = []
    words: list[list[Any]] = []
    melody: list[Note] = []
    for section in sections:
        for index, line in enumerate(section.lines):
            slot_start = _t(plan, section.first + index * per_line, bar)
            slot = per_line * bar
            parts = [(w, lyr.syllables(w)) for w in lyr.words(line)]
            count = sum(len(s) for _, s in parts)
            if count == 0:
                continue
            times = _rhythm(count, slot_start, slot, plan.tempo, plan.seed, line)
            rng = seeded_rng("melody", plan.seed, section.chorus, line)
            pitches = _walk(plan.key, tonic, times, chords, rng, lift=2 if section.chorus else 0)
            k = 0
            for w_index, (word, sylls) in enumerate(parts):
                text = f"[{section.tag}]\n{word}" if index == 0 and w_index == 0 else word
                words.append([text, times[k][0], times[k + len(sylls) - 1][1]])
                for onset, vowel in sylls:
                    start, end = times[k]
                    syllables.append([start, end, pitches[k], vowel[0], onset])
                    melody.append([float(pitches[k]), start, end, 0.8])
                    k += 1
    return syllables, words, melody


def _rhythm(
    count: int, slot_start: float, slot: float, tempo: float, seed: int, line: str
) -> list[tuple[float, float]]:
    """(start, end) per syllable on an eighth or sixteenth grid inside 3/4 of the slot."""
    beat = 60.0 / tempo
    span = slot * _SLOT_FILL
    unit = beat / 2
    if count > span / unit:
        unit = beat / 4
    if count > span / unit:
        unit = span / count
    available = max(count, int(span / unit + 1e-9))
    durations = [1] * count
    extra = available - count
    rng = seeded_rng("rhythm", seed, line)
    hold = min(extra, 3)
    durations[-1] += hold
    extra -= hold
    if count > 1:
        for pos in rng.integers(0, count - 1, size=extra):
            durations[int(pos)] += 1
    out = []
    cursor = 0
    for d in durations:
        start = slot_start + cursor * unit
        out.append((round(start, 6), round(start + d * unit * 0.92, 6)))
        cursor += d
    return out


def _walk(
    key: Key,
    tonic: int,
    times: list[tuple[float, float]],
    chords: list[_Chord],
    rng: np.random.Generator,
    lift: int,
    low_degree: int = 0,
    high_degree: int = 9,
) -> list[int]:
    """Scale-degree random walk: chord tones at the start and end of the phrase."""
    out = []
    degree = _nearest_chord_degree(key, tonic, _chord_at(chords, times[0][0]), 3 + lift)
    for index, (start, _) in enumerate(times):
        if index:
            degree += int(rng.choice([-2, -1, -1, 0, 1, 1, 2]))
            degree = min(max(degree, low_degree + lift), high_degree + lift)
        if index == len(times) - 1:
            degree = _nearest_chord_degree(key, tonic, _chord_at(chords, start), degree)
        out.append(key.degree_pitch(degree, tonic))
    return out


def _nearest_chord_degree(key: Key, tonic: int, chord: _Chord, degree: int) -> int:
    classes = {p % 12 for p in chord.pitches}
    for distance in range(0, 7):
        for candidate in (degree - distance, degree + distance):
            if key.degree_pitch(candidate, tonic) % 12 in classes:
                return candidate
    return degree


def _backing(
    plan: Plan, sections: list[_Section], chords: list[_Chord]
) -> list[tuple[float, float, float, float, str]]:
    """An "ah" on each chorus bar's chord third, in the lead voice's octave."""
    if plan.voice is None:
        return []
    low = int(plan.voice.get("low", _VOICE_LOW.get(str(plan.voice.get("gender")), 52)))
    out = []
    for section in sections:
        if not section.chorus or not section.lines:
            continue
        for chord in chords:
            if section_span(plan, section, chord) and chord.start >= plan.start_s:
                third = chord.pitches[1]
                pitch = low + 2 + (third - low - 2) % 12
                end = min(chord.end - 0.05, plan.end_s)
                out.append((chord.start, round(end, 6), float(pitch), 0.45, "a"))
    return out


def section_span(plan: Plan, section: _Section, chord: _Chord) -> bool:
    bar = 240.0 / plan.tempo
    return _t(plan, section.first, bar) <= chord.start < _t(plan, section.last, bar)


def _instrument_notes(
    plan: Plan,
    sections: list[_Section],
    chords: list[_Chord],
    bar: float,
    rng: np.random.Generator,
    sung: bool,
) -> dict[str, list[Note]]:
    profile = plan.profile
    wanted = set(plan.parts) if plan.parts is not None else None
    instruments = set(profile.instruments) | {"drums", "bass"}
    if profile.drums == "none":
        instruments.discard("drums")
    if wanted is not None:
        instruments &= wanted
    notes: dict[str, list[Note]] = {}
    step = bar / 16
    variant = int(rng.integers(0, 3))
    comping = [p for p in ("keyboard", "guitar", "strings", "brass") if p in instruments]
    for section in sections:
        tag = section.tag.lower()
        quiet = tag in ("intro", "outro", "break")
        for index, chord in enumerate(c for c in chords if section_span(plan, section, c)):
            if "drums" in instruments:
                crash = section.chorus and index == 0
                _drums(notes, profile, chord, step, crash, quiet, variant)
            if "bass" in instruments and tag != "intro":
                _bass(notes, plan, chord, step)
            for part in comping:
                _comp(notes, part, plan, chord, step, section, variant)
    lead = profile.lead if (wanted is None or profile.lead in wanted) else None
    if lead is not None:
        notes[lead] = notes.get(lead, []) + _lead(plan, sections, chords, bar, sung)
    return notes


def _drums(
    notes: dict[str, list[Note]],
    profile: Profile,
    chord: _Chord,
    step: float,
    crash: bool,
    quiet: bool,
    variant: int,
) -> None:
    out = notes.setdefault("drums", [])
    pattern = DRUM_PATTERNS[profile.drums]
    for pitch, s, vel in pattern:
        if quiet and pitch not in (36, 42, 51):
            continue
        if variant == 1 and pitch == 42 and s % 4 == 2:
            pitch = 46
        t = chord.start + s * step + (profile.swing * 2 * step if s % 4 == 2 else 0.0)
        length = 0.4 if pitch in (46, 49) else 0.12
        out.append([float(pitch), round(t, 6), round(t + length, 6), vel * (0.7 if quiet else 1.0)])
    if crash:
        out.append([49.0, chord.start, round(chord.start + 1.0, 6), 0.7])
    if variant == 2 and not quiet:
        out.append(
            [38.0, round(chord.start + 14 * step, 6), round(chord.start + 15 * step, 6), 0.4]
        )


def _bass(notes: dict[str, list[Note]], plan: Plan, chord: _Chord, step: float) -> None:
    out = notes.setdefault("bass", [])
    root = chord.pitches[0] - 12
    if root > 45:
        root -= 12
    tones = {0: root, 1: chord.pitches[1] - 24, 2: chord.pitches[2] - 24, 7: root + 12}
    for s, length, which in BASS_PATTERNS[plan.profile.bass]:
        pitch = tones[which]
        while pitch < 28:
            pitch += 12
        start = chord.start + s * step
        out.append([float(pitch), round(start, 6), round(start + length * step * 0.9, 6), 0.85])


_COMP_RHYTHM: dict[str, tuple[tuple[tuple[int, int], ...], ...]] = {
    # Per variant: (step, length in steps) of each chord hit.
    "keyboard": (((0, 16),), ((0, 8), (8, 8)), ((0, 6), (6, 4), (10, 6))),
    "guitar": (
        ((0, 4), (4, 2), (6, 4), (10, 2), (12, 4)),
        tuple((s, 2) for s in range(0, 16, 2)),
        ((0, 6), (6, 6), (12, 4)),
    ),
    "strings": (((0, 16),),),
    "brass": (((6, 2), (14, 2)), ((0, 3), (10, 2)), ((4, 2), (12, 2))),
}


def _comp(
    notes: dict[str, list[Note]],
    part: str,
    plan: Plan,
    chord: _Chord,
    step: float,
    section: _Section,
    variant: int,
) -> None:
    tag = section.tag.lower()
    if part == "strings" and not (section.chorus or tag in ("bridge", "outro", "intro")):
        return
    if part in ("guitar", "brass") and tag in ("intro", "outro"):
        return
    options = _COMP_RHYTHM[part]
    rhythm = options[variant % len(options)]
    if plan.profile.drums == "reggae" and part in ("keyboard", "guitar"):
        rhythm = ((4, 2), (12, 2))
    shift = {"keyboard": 12, "guitar": 4, "strings": 12, "brass": 12}[part]
    pitches = [p + shift for p in chord.pitches]
    if part == "guitar" and plan.profile.name in ("rock", "metal"):
        pitches = [chord.pitches[0] + 4 - 12, chord.pitches[0] + 4 - 12 + 7, chord.pitches[0] + 4]
    out = notes.setdefault(part, [])
    vel = 0.75 if section.chorus else 0.6
    for s, length in rhythm:
        start = chord.start + s * step
        for k, pitch in enumerate(pitches):
            strum = 0.012 * k if part == "guitar" else 0.0
            out.append(
                [float(pitch), round(start + strum, 6), round(start + length * step, 6), vel]
            )


def _lead(
    plan: Plan, sections: list[_Section], chords: list[_Chord], bar: float, sung: bool
) -> list[Note]:
    """The lead's melody: the given one (cover), phrases for an instrumental, fills when sung."""
    if plan.melody is not None:
        return [list(n) for n in plan.melody]
    tonic = plan.key.tonic_pitch(62)
    out: list[Note] = []
    for section in sections:
        tag = section.tag.lower()
        if sung and tag not in ("intro", "break"):
            continue
        if tag == "outro":
            continue
        length = 2 if plan.tempo >= 100 else 1
        for b in range(section.first, section.last, length):
            slot_start = _t(plan, b, bar)
            count = 5 + (b * 7 + plan.seed) % 4
            motif = f"{section.tag}:{(b - section.first) // length % 2}"
            times = _rhythm(count, slot_start, length * bar, plan.tempo, plan.seed, motif)
            rng = seeded_rng("lead", plan.seed, motif)
            lift = 2 if section.chorus else 0
            pitches = _walk(plan.key, tonic, times, chords, rng, lift, 0, 8)
            out += [[float(p), s, e, 0.7] for p, (s, e) in zip(pitches, times, strict=True)]
    return out


def _clip_notes(notes: dict[str, list[Note]], plan: Plan) -> dict[str, list[Note]]:
    """Notes sorted by start, those outside the span dropped and their ends cut at its end."""
    out: dict[str, list[Note]] = {}
    for part, items in notes.items():
        kept = []
        for pitch, start, end, vel in items:
            if start < plan.start_s - 1e-9 or start >= plan.end_s:
                continue
            kept.append([pitch, start, round(min(end, plan.end_s), 6), round(vel, 4)])
        out[part] = sorted(kept, key=lambda n: (n[1], n[0]))
    return out


def _profile_dict(profile: Profile) -> dict[str, Any]:
    return {
        "name": profile.name,
        "tempo": list(profile.tempo),
        "minor_bias": profile.minor_bias,
        "sevenths": profile.sevenths,
        "drums": profile.drums,
        "bass": profile.bass,
        "instruments": list(profile.instruments),
        "swing": profile.swing,
        "lead": profile.lead,
        "mood": profile.mood,
    }


def profile_from_dict(data: dict[str, Any]) -> Profile:
    return Profile(
        name=str(data["name"]),
        tempo=(float(data["tempo"][0]), float(data["tempo"][1])),
        minor_bias=float(data["minor_bias"]),
        sevenths=bool(data["sevenths"]),
        drums=str(data["drums"]),
        bass=str(data["bass"]),
        instruments=tuple(str(i) for i in data["instruments"]),
        swing=float(data["swing"]),
        lead=str(data["lead"]),
        mood=str(data["mood"]),
    )
