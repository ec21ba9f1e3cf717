"""A 60 s procedural song against MP3-encoding 60 s of stereo audio, in one run.

    .venv/bin/python -m bench.music [--runs 5]

Song: the synthetic engine's text_to_music, one track of 60 s at 44.1 kHz
stereo with vocals (custom lyrics of 7 lines, "pop"): composing the score,
rendering drums, bass, keys, guitar, synth, the sung formant voice and its
backing "ah"s, the mix, the words and the 512x512 cover. Baseline: encoding
60 s of 44.1 kHz stereo noise to MP3 (192 kb/s, `media.audio.encode_audio`),
which the server does to every track anyway. Each is timed `--runs` times
after one warm-up; medians are printed with the ratio song / encode.
Target (issue 14): the song under 1.5 s.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

from reelserve.engines.base import Audio, Capability, EngineRequest, MusicOutput
from reelserve.engines.synthetic import SyntheticEngine
from reelserve.media.audio import encode_audio

SECONDS = 60.0
RATE = 44100
LYRICS = (
    "[Verse]\nWaggin' my tail in the morning light\nChasing the birds till they fly away\n"
    "Running in circles all through the night\nDigging for treasure the whole of the day\n"
    "[Chorus]\nOh puppy love you are my delight\nEvery day is a wonderful day\n"
    "Sing it loud for the dog in the park\n"
)


def median_time(step: Callable[[], object], runs: int) -> float:
    step()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def render_song() -> None:
    request = EngineRequest(
        Capability.TEXT_TO_MUSIC,
        LYRICS,
        seed=1,
        count=1,
        duration_s=SECONDS,
        sample_rate=RATE,
        params={"custom": True, "style": "pop", "title": "Bench", "vocal_gender": "f"},
    )
    out = SyntheticEngine().run(request, progress=lambda f: None)
    assert isinstance(out, MusicOutput)
    track = next(iter(out.tracks))
    assert len(track.audio.samples) == round(SECONDS * RATE) and track.words


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    noise = np.random.default_rng(0).uniform(-0.5, 0.5, (round(SECONDS * RATE), 2))
    clip = Audio(noise.astype(np.float32), RATE)
    song = median_time(render_song, args.runs)
    encode = median_time(lambda: encode_audio(clip, "mp3"), args.runs)
    print(
        f"60 s song (44.1 kHz stereo, vocals): {song:.3f} s; "
        f"MP3 encode of 60 s stereo: {encode:.3f} s; ratio {song / encode:.2f} "
        f"(target: song < 1.5 s, {'met' if song < 1.5 else 'MISSED'})"
    )


if __name__ == "__main__":
    main()
