"""The synthetic engine's audio and text operations: speech, effects, isolation, transcripts."""

from __future__ import annotations

import time

import numpy as np
import pytest

from reelserve.engines.base import (
    Audio,
    AudioOutput,
    Capability,
    EngineError,
    EngineRequest,
    TextOutput,
)
from reelserve.engines.synthetic import SyntheticEngine

RATE = 44100
SENTENCE = "The quick brown fox jumps over the lazy dog, twice. Does it? "


def audio(operation: Capability, prompt: str = "", **fields: object) -> Audio:
    out = SyntheticEngine().run(EngineRequest(operation, prompt, **fields), lambda _: None)  # type: ignore[arg-type]
    assert isinstance(out, AudioOutput)
    assert out.audio.samples.dtype == np.float32
    assert out.audio.samples.ndim == 2
    assert float(np.abs(out.audio.samples).max()) <= 1.0
    return out.audio


def text(operation: Capability, **fields: object) -> dict[str, object]:
    out = SyntheticEngine().run(EngineRequest(operation, "", **fields), lambda _: None)  # type: ignore[arg-type]
    assert isinstance(out, TextOutput)
    return out.data


def speech(words: str, **params: object) -> Audio:
    return audio(Capability.TEXT_TO_SPEECH, words, sample_rate=RATE, params=params)


def test_speech_is_mono_at_the_asked_rate_and_about_13_characters_a_second() -> None:
    clip = audio(Capability.TEXT_TO_SPEECH, SENTENCE, sample_rate=22050)
    assert clip.sample_rate == 22050 and clip.samples.shape[1] == 1
    assert 12 <= len(SENTENCE) / clip.seconds <= 15


def test_speech_length_grows_linearly_with_the_text() -> None:
    one, two = speech(SENTENCE).seconds, speech(SENTENCE * 2).seconds
    assert 1.8 <= two / one <= 2.2


def test_speed_scales_the_length() -> None:
    normal, fast = speech(SENTENCE).seconds, speech(SENTENCE, speed=2.0).seconds
    assert 0.45 <= fast / normal <= 0.55


def test_speech_has_its_spectral_peak_in_the_formant_range() -> None:
    mono = speech(SENTENCE).samples[:, 0].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(mono))
    freqs = np.fft.rfftfreq(len(mono), 1 / RATE)
    smooth = np.convolve(spectrum, np.ones(50) / 50, mode="same")
    band = (freqs > 50) & (freqs < 10000)
    peak = freqs[band][np.argmax(smooth[band])]
    assert 300 <= peak <= 3000
    formant_share = (spectrum[(freqs >= 300) & (freqs <= 3000)] ** 2).sum() / (spectrum**2).sum()
    assert formant_share > 0.5


def test_punctuation_makes_silent_pauses() -> None:
    mono = speech("aaaa. aaaa").samples[:, 0]
    hop = RATE // 100
    rms = np.sqrt((mono[: len(mono) // hop * hop].reshape(-1, hop) ** 2).mean(axis=1))
    quiet = rms < 0.02 * rms.max()
    # a run of >= 200 ms of silence (the full stop), inside the clip
    runs = np.diff(np.flatnonzero(np.diff(np.concatenate([[0], quiet.astype(int), [0]]))))[::2]
    assert runs.max() >= 20


def test_speech_is_deterministic_and_the_voice_and_seed_change_it() -> None:
    a = speech("hello world")
    assert np.array_equal(a.samples, speech("hello world").samples)
    b = speech("hello world", voice="Rachel")
    assert len(a.samples) == len(b.samples) and not np.allclose(a.samples, b.samples, atol=0.05)
    c = audio(Capability.TEXT_TO_SPEECH, "hello world", sample_rate=RATE, seed=5)
    assert not np.array_equal(a.samples, c.samples)


def pitch(clip: Audio) -> float:
    """The autocorrelation pitch (Hz) of the loudest 100 ms."""
    mono = clip.samples[:, 0].astype(np.float64)
    hop = RATE // 10
    start = int(
        np.argmax([np.abs(mono[i : i + hop]).sum() for i in range(0, len(mono) - hop, hop)])
    )
    part = mono[start * hop : start * hop + hop]
    corr = np.correlate(part, part, "full")[hop - 1 :]
    lo, hi = RATE // 400, RATE // 70
    return RATE / (lo + int(np.argmax(corr[lo:hi])))


def test_a_dialogue_concatenates_lines_with_a_different_pitch_per_voice() -> None:
    lines = [{"text": "aaaa aaaa", "voice": "A"}, {"text": "aaaa aaaa", "voice": "B"}]
    both = speech("", dialogue=lines)
    first = speech("", dialogue=lines[:1])
    assert both.seconds > 2 * first.seconds
    second = Audio(both.samples[-len(first.samples) :], RATE)
    assert abs(pitch(first) - pitch(second)) > 30


def test_empty_text_is_a_400() -> None:
    with pytest.raises(EngineError) as caught:
        speech("   ")
    assert caught.value.fail_code == 400


def test_ten_seconds_of_speech_take_under_half_a_second() -> None:
    words = (SENTENCE * 3)[:135]
    speech("warm up")
    start = time.perf_counter()
    clip = speech(words)
    elapsed = time.perf_counter() - start
    print(f"text_to_speech {clip.seconds:.1f} s of audio: {elapsed:.3f} s")
    assert clip.seconds >= 9.5
    assert elapsed < 0.5


@pytest.mark.parametrize(
    "prompt", ["door slam", "rain on a tin roof", "wind", "magic chime", "engine hum", "laser", "x"]
)
def test_a_sound_effect_lasts_its_duration_in_stereo(prompt: str) -> None:
    clip = audio(Capability.SOUND_EFFECT, prompt, duration_s=2.5, sample_rate=RATE)
    assert clip.samples.shape == (round(2.5 * RATE), 2)
    assert float(clip.samples.std()) > 0.01


def test_a_sound_effect_defaults_to_five_seconds_and_is_deterministic() -> None:
    a = audio(Capability.SOUND_EFFECT, "thunder", sample_rate=RATE)
    assert len(a.samples) == 5 * RATE
    assert np.array_equal(
        a.samples, audio(Capability.SOUND_EFFECT, "thunder", sample_rate=RATE).samples
    )
    other = audio(Capability.SOUND_EFFECT, "a bell", sample_rate=RATE)
    assert not np.allclose(a.samples, other.samples, atol=0.05)


def test_a_looping_effect_joins_its_end_to_its_start_smoothly() -> None:
    for prompt in ("rain", "whoosh", "sweep", "door slam"):
        looped = audio(
            Capability.SOUND_EFFECT, prompt, duration_s=2, sample_rate=RATE, params={"loop": True}
        )
        once = audio(Capability.SOUND_EFFECT, prompt, duration_s=2, sample_rate=RATE)
        steps = np.abs(np.diff(looped.samples, axis=0)).mean()
        seam = np.abs(looped.samples[0] - looped.samples[-1]).mean()
        assert seam < 6 * steps + 1e-3
        assert not np.array_equal(looped.samples, once.samples)


def test_isolation_keeps_the_length_and_gates_the_noise_between_voiced_parts() -> None:
    rng = np.random.default_rng(1)
    t = np.arange(2 * RATE) / RATE
    voice = 0.5 * np.sin(2 * np.pi * 300 * t) * ((t % 1.0) < 0.5)
    noisy = (voice + 0.02 * rng.standard_normal(len(t))).astype(np.float32)[:, None]
    out = audio(Capability.AUDIO_ISOLATION, audio=Audio(noisy, RATE))
    assert out.samples.shape == noisy.shape and out.sample_rate == RATE
    gaps = ((t % 1.0) > 0.6) & ((t % 1.0) < 0.95)
    tones = ((t % 1.0) > 0.1) & ((t % 1.0) < 0.4)
    assert np.abs(out.samples[gaps, 0]).mean() < 0.3 * np.abs(noisy[gaps, 0]).mean()
    assert np.abs(out.samples[tones, 0]).mean() > 0.8 * np.abs(noisy[tones, 0]).mean()


def test_isolation_without_audio_is_a_400() -> None:
    with pytest.raises(EngineError) as caught:
        audio(Capability.AUDIO_ISOLATION)
    assert caught.value.fail_code == 400


def test_the_transcript_says_it_is_synthetic_and_times_one_word_per_voiced_segment() -> None:
    t = np.arange(3 * RATE) / RATE
    voiced = ((t > 0.2) & (t < 0.7)) | ((t > 1.2) & (t < 1.5)) | ((t > 2.0) & (t < 2.8))
    clip = Audio((0.4 * np.sin(2 * np.pi * 200 * t) * voiced).astype(np.float32)[:, None], RATE)
    data = text(Capability.SPEECH_TO_TEXT, audio=clip, params={"language_code": "fr"})
    assert "synthetic transcript" in str(data["text"]) and "3 voiced segments" in str(data["text"])
    assert data["language_code"] == "fr"
    words = data["words"]
    assert isinstance(words, list) and len(words) == 3
    for word, (start, end) in zip(words, [(0.2, 0.7), (1.2, 1.5), (2.0, 2.8)], strict=True):
        assert word["type"] == "word"
        assert abs(word["start"] - start) <= 0.03 and abs(word["end"] - end) <= 0.03


def test_a_transcript_defaults_to_english_and_needs_audio() -> None:
    silence = Audio(np.zeros((RATE, 1), np.float32), RATE)
    data = text(Capability.SPEECH_TO_TEXT, audio=silence)
    assert data["language_code"] == "en" and data["words"] == []
    with pytest.raises(EngineError) as caught:
        text(Capability.SPEECH_TO_TEXT)
    assert caught.value.fail_code == 400


def test_character_ids_are_deterministic_per_input() -> None:
    frame = np.zeros((32, 32, 3), np.uint8)
    a = text(Capability.CREATE_CHARACTER, video=[frame], params={"name": "Ada"})
    again = text(Capability.CREATE_CHARACTER, video=[frame], params={"name": "Ada"})
    other = text(Capability.CREATE_CHARACTER, video=[frame + 1], params={"name": "Ada"})
    assert a == again and a != other
    ident = str(a["character_id"])
    assert ident.startswith("synthetic_") and len(ident) == len("synthetic_") + 12
