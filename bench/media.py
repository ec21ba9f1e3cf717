"""Synthetic image and speech generation against encoding the same amount of media, in one run.

    .venv/bin/python -m bench.media [--runs 7]

(1) Image: the synthetic engine's 1024x1024 text_to_image (procedural scene +
prompt text) followed by a PNG encode of it (media.images, compress level 1),
against the baseline of a PNG encode alone of a 1024x1024 image that needs
no generating (a smooth gradient with mild noise, roughly as compressible
as the synthetic scene). (2) Audio: 10 s of synthetic speech (formant
synthesis, 44.1 kHz mono) followed by an MP3 encode (192 kb/s), against an
MP3 encode alone of 10 s of noise. Every step is timed `--runs` times after
one warm-up; medians are printed, with the ratios generate+encode / encode.
Targets (issue 12): the image under 0.3 s, the 10 s of speech under 0.5 s.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

from reelserve.engines.base import Audio, AudioOutput, Capability, EngineRequest, ImageOutput
from reelserve.engines.synthetic import SyntheticEngine
from reelserve.media.audio import encode_audio
from reelserve.media.images import encode_image

SIDE = 1024
SPEECH_S = 10.0
RATE = 44100
PROMPT = "a lighthouse on a cliff at dusk, waves breaking below, gulls circling"
# ~14 characters a second: long enough for 10 s of speech.
TEXT = (
    "Procedural speech, not a real voice: every letter becomes a short sound, "
    "vowels are voiced, consonants hiss, and commas pause. It runs."
)


def median_time(step: Callable[[], object], runs: int) -> float:
    step()  # warm-up: font cache, FFmpeg encoder set-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def generate_image(seed: int = 0) -> np.ndarray:
    request = EngineRequest(Capability.TEXT_TO_IMAGE, PROMPT, SIDE, SIDE, seed=seed)
    out = SyntheticEngine().run(request, lambda _: None)
    assert isinstance(out, ImageOutput)
    return out.images[0]


def generate_speech() -> Audio:
    request = EngineRequest(Capability.TEXT_TO_SPEECH, TEXT, sample_rate=RATE)
    out = SyntheticEngine().run(request, lambda _: None)
    assert isinstance(out, AudioOutput)
    return out.audio


def gradient_image() -> np.ndarray:
    """Smooth colour gradients: about as compressible as the synthetic scene."""
    y, x = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32) / SIDE
    rgb = np.stack([255 * x, 255 * y, 128 + 60 * np.sin(6 * x + 4 * y)], axis=-1)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def noise_image() -> np.ndarray:
    """Uniform noise: the worst case for PNG (incompressible)."""
    return np.random.default_rng(0).integers(0, 256, (SIDE, SIDE, 3), dtype=np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    runs = args.runs

    speech = generate_speech()
    print(f"speech clip: {speech.seconds:.2f} s at {speech.sample_rate} Hz")
    scene = generate_image()
    plain, random = gradient_image(), noise_image()
    noise = Audio(
        np.random.default_rng(0).uniform(-0.5, 0.5, (len(speech.samples), 1)).astype(np.float32),
        RATE,
    )
    print(
        f"PNG sizes: synthetic {len(encode_image(scene, 'png')) / 1e6:.2f} MB, "
        f"gradient {len(encode_image(plain, 'png')) / 1e6:.2f} MB, "
        f"noise {len(encode_image(random, 'png')) / 1e6:.2f} MB"
    )

    image_gen = median_time(generate_image, runs)
    image_gen_png = median_time(lambda: encode_image(generate_image(), "png"), runs)
    png_only = median_time(lambda: encode_image(plain, "png"), runs)
    png_noise = median_time(lambda: encode_image(random, "png"), runs)
    speech_gen = median_time(generate_speech, runs)
    speech_gen_mp3 = median_time(lambda: encode_audio(generate_speech(), "mp3"), runs)
    mp3_only = median_time(lambda: encode_audio(noise, "mp3"), runs)

    clip = f"{speech.seconds:.1f} s"
    rows = [
        ("text_to_image 1024x1024", image_gen),
        ("text_to_image 1024x1024 + PNG encode", image_gen_png),
        ("baseline: PNG encode, 1024x1024 gradient", png_only),
        ("baseline: PNG encode, 1024x1024 noise", png_noise),
        (f"text_to_speech {clip}", speech_gen),
        (f"text_to_speech {clip} + MP3 encode", speech_gen_mp3),
        (f"baseline: MP3 encode of {clip} of noise", mp3_only),
    ]
    print(f"\nmedians of {runs} runs")
    for label, seconds in rows:
        print(f"{label:44s} {seconds * 1e3:7.1f} ms")
    print(
        f"\nimage: (generate + PNG) / PNG = {image_gen_png / png_only:.2f} (gradient), "
        f"{image_gen_png / png_noise:.2f} (noise)"
    )
    print(f"speech: (generate + MP3) / MP3 = {speech_gen_mp3 / mp3_only:.2f}")
    image_ok = "met" if image_gen < 0.3 else "MISSED"
    speech_ok = "met" if speech_gen < 0.5 else "MISSED"
    print(f"target image < 300 ms: {image_ok} ({image_gen * 1e3:.0f} ms)")
    print(f"target 10 s of speech < 500 ms: {speech_ok} ({speech_gen * 1e3:.0f} ms)")


if __name__ == "__main__":
    main()
