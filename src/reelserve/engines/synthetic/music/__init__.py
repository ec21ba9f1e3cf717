"""The synthetic music engine (procedural, not AI): songs, stems, MIDI, lyrics and music videos.

`run_music(request, progress)` serves the song side of Suno's family:
text_to_music (songs and sounds, `song.py`), extend_music, replace_section,
add_vocals, add_instrumental, cover_music, mashup_music (`derive.py`),
separate_stems (`stems.py`) and write_lyrics (`lyrics.py`). Every track
carries a JSON recipe from which `render_parts(recipe)` re-renders its parts
exactly (their sum is the track); `lyric_lines` is the line rule of the
length Decision and `boost_style` Suno's style boost. All of it is fixed
rules, wavetables, formant filters and seeded choices, deterministic for a
request and seed; nothing here is, or is presented as, machine learning.
"""

from __future__ import annotations

from collections.abc import Callable

from reelserve.engines.base import (
    Capability,
    EngineError,
    EngineRequest,
    Output,
    ProgressFn,
    TextOutput,
)
from reelserve.engines.synthetic.music.derive import (
    add_instrumental,
    add_vocals,
    cover_music,
    extend_music,
    mashup_music,
    replace_section,
)
from reelserve.engines.synthetic.music.lyrics import lyric_lines, write_lyrics
from reelserve.engines.synthetic.music.recipe import is_ours, recipe_notes, track_seconds
from reelserve.engines.synthetic.music.render import mix_of, render_parts
from reelserve.engines.synthetic.music.song import text_to_music
from reelserve.engines.synthetic.music.stems import separate_stems
from reelserve.engines.synthetic.music.style import boost_style

__all__ = [
    "MUSIC_CAPABILITIES",
    "boost_style",
    "is_ours",
    "lyric_lines",
    "mix_of",
    "recipe_notes",
    "render_parts",
    "run_music",
    "track_seconds",
    "write_lyrics_output",
]

WRITE_LYRICS_LINES = 20


def write_lyrics_output(request: EngineRequest) -> TextOutput:
    """`count` (at least 1) lyric variants for the idea `prompt`: {"lyrics": [{title, text}]}."""
    if not request.prompt.strip():
        raise EngineError("write_lyrics needs an idea in the prompt", fail_code=400)
    variants = []
    for k in range(max(1, request.count)):
        title, text = write_lyrics(request.prompt, request.seed, k, WRITE_LYRICS_LINES)
        variants.append({"title": title, "text": text})
    return TextOutput({"lyrics": variants})


_SONG_OPS: dict[Capability, Callable[[EngineRequest, ProgressFn], Output]] = {
    Capability.TEXT_TO_MUSIC: text_to_music,
    Capability.EXTEND_MUSIC: extend_music,
    Capability.COVER_MUSIC: cover_music,
    Capability.ADD_VOCALS: add_vocals,
    Capability.ADD_INSTRUMENTAL: add_instrumental,
    Capability.REPLACE_SECTION: replace_section,
    Capability.MASHUP_MUSIC: mashup_music,
}
MUSIC_CAPABILITIES = frozenset(_SONG_OPS) | {Capability.WRITE_LYRICS, Capability.SEPARATE_STEMS}


def run_music(request: EngineRequest, progress: ProgressFn) -> Output:
    """Serve one music operation; songs come back as `MusicOutput` with lazily rendered tracks."""
    op = request.operation
    if op in _SONG_OPS:
        return _SONG_OPS[op](request, progress)
    if op is Capability.WRITE_LYRICS:
        result: Output = write_lyrics_output(request)
    elif op is Capability.SEPARATE_STEMS:
        result = separate_stems(request)
    else:
        raise EngineError(f"the synthetic music engine does not serve {op}")
    progress(1.0)
    return result
