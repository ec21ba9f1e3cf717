"""The synthetic music engine's analysis side: stem separation, audio to MIDI, music videos.

Every input is synthesised here with known parts (a vibrato "voice", a bass
line, drum hits, tone sequences), so the tests can check that each part
comes back where it should.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest

from reelserve.engines.base import Audio, Capability, EngineError, EngineRequest
from reelserve.engines.synthetic.music.separate import separate_generic
from reelserve.engines.synthetic.music.transcribe import stem_role, transcribe
from reelserve.engines.synthetic.music.visualiser import Layout, music_video
from reelserve.media.encode import Mp4Writer

Floats = npt.NDArray[np.float64]
RATE = 44100
SPLIT_NAMES = {"vocals", "backing_vocals", "drums", "bass", "keyboard"}


def _stereo(left: Floats, right: Floats | None = None) -> Audio:
    right = left if right is None else right
    return Audio(np.stack([left, right], axis=1).astype(np.float32), RATE)


def _times(seconds: float) -> Floats:
    return np.arange(round(seconds * RATE)) / RATE


def voice(seconds: float) -> Floats:
    """A sung line: eight notes of a harmonic tone with 5.5 Hz vibrato, each swelling in and out."""
    t = _times(seconds)
    notes = np.array([60, 64, 67, 65, 62, 64, 69, 67])
    position = t / (seconds / len(notes))
    pitch = notes[np.minimum(position.astype(int), len(notes) - 1)]
    f0 = 440 * 2 ** ((pitch - 69) / 12) * 2 ** (0.45 / 12 * np.sin(2 * np.pi * 5.5 * t))
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    tone = sum(np.sin(k * phase) * 0.9**k / k**0.3 for k in range(1, 12))
    swell = np.clip(3 * np.sin(np.pi * (position % 1.0)), 0, 1)
    result: Floats = 0.15 * tone * swell
    return result


def bass(seconds: float) -> Floats:
    """A steady bass line around 50-65 Hz (C2, C2, G1, A1)."""
    t = _times(seconds)
    notes = np.array([36, 36, 31, 33])
    pitch = notes[np.minimum((t / (seconds / len(notes))).astype(int), len(notes) - 1)]
    phase = 2 * np.pi * np.cumsum(440 * 2 ** ((pitch - 69) / 12)) / RATE
    result: Floats = 0.4 * (np.sin(phase) + 0.3 * np.sin(2 * phase) + 0.1 * np.sin(3 * phase))
    return result


def clicks(seconds: float) -> Floats:
    """Noise bursts every 250 ms, each decaying in ~4 ms."""
    rng = np.random.default_rng(2)
    out = np.zeros(round(seconds * RATE))
    length = round(0.03 * RATE)
    decay = np.exp(-np.arange(length) / (0.004 * RATE))
    for hit in np.arange(0.1, seconds - 0.05, 0.25):
        start = round(hit * RATE)
        out[start : start + length] += rng.standard_normal(length) * decay
    result: Floats = 0.5 * out
    return result


def _correlation(stem: Audio, source: Floats) -> float:
    return float(np.corrcoef(stem.samples.mean(axis=1), source)[0, 1])


def _rms(samples: npt.NDArray[np.float32]) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


# --- separation -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["separate_vocal", "split_stem"])
@pytest.mark.parametrize("channels", [1, 2])
def test_stems_sum_to_the_input_and_keep_its_shape(mode: str, channels: int) -> None:
    seconds = 2.0
    mix = voice(seconds) + bass(seconds) + clicks(seconds)
    rng = np.random.default_rng(0)
    samples = np.stack([mix + 0.05 * rng.standard_normal(len(mix)) for _ in range(channels)], 1)
    audio = Audio(samples.astype(np.float32), RATE)
    stems = separate_generic(audio, mode)
    if mode == "separate_vocal":
        assert set(stems) == {"vocals", "instrumental"}
    else:
        assert {"vocals", "drums", "bass", "keyboard"} <= set(stems) <= SPLIT_NAMES
        assert ("backing_vocals" in stems) == (channels == 2)
    for stem in stems.values():
        assert stem.samples.shape == audio.samples.shape
        assert stem.samples.dtype == np.float32
        assert stem.sample_rate == RATE
    total = sum(stem.samples.astype(np.float64) for stem in stems.values())
    assert np.abs(total - audio.samples).max() < 1e-5
    assert all(_rms(stem.samples) > 0 for name, stem in stems.items() if name != "backing_vocals")


def test_split_stem_sends_each_known_source_to_its_stem() -> None:
    seconds = 4.0
    sources = {"vocals": voice(seconds), "bass": bass(seconds), "drums": clicks(seconds)}
    stems = separate_generic(_stereo(sum(sources.values())), "split_stem")
    for name, own in sources.items():
        mine = _correlation(stems[name], own)
        others = [_correlation(stems[name], s) for n, s in sources.items() if n != name]
        assert mine > max(others) + 0.5, (name, mine, others)
        assert mine > 0.8, (name, mine)
    # A centred voice is lead, not backing.
    assert _rms(stems["backing_vocals"].samples) < 0.05 * _rms(stems["vocals"].samples)


def test_separate_vocal_splits_the_voice_from_the_band() -> None:
    seconds = 4.0
    v, b, d = voice(seconds), bass(seconds), clicks(seconds)
    stems = separate_generic(_stereo(v + b + d), "separate_vocal")
    assert _correlation(stems["vocals"], v) > 0.9
    assert _correlation(stems["vocals"], b) < 0.1
    assert _correlation(stems["instrumental"], b) > _correlation(stems["instrumental"], v) + 0.5


def test_an_off_centre_voice_is_a_backing_vocal() -> None:
    seconds = 3.0
    v, b = voice(seconds), bass(seconds)
    stems = separate_generic(_stereo(b + v, b + 0.15 * v), "split_stem")
    assert _rms(stems["backing_vocals"].samples) > 2 * _rms(stems["vocals"].samples)


def test_separation_rejects_an_unknown_mode_and_handles_empty_audio() -> None:
    with pytest.raises(EngineError) as info:
        separate_generic(_stereo(np.zeros(100)), "karaoke")
    assert info.value.fail_code == 400
    empty = separate_generic(Audio(np.zeros((0, 2), np.float32), RATE), "separate_vocal")
    assert {name: stem.samples.shape for name, stem in empty.items()} == {
        "vocals": (0, 2),
        "instrumental": (0, 2),
    }


# --- transcription ----------------------------------------------------------------------


def tones(
    pitches: list[int], duration: float, gap: float, harmonics: int = 5, vibrato: float = 0.0
) -> tuple[Floats, list[tuple[int, float]]]:
    """Notes one after another (10 ms attack, 20 ms release), and their (pitch, onset)."""
    lead = 0.3
    out = np.zeros(round((lead + len(pitches) * (duration + gap) + 0.3) * RATE))
    truth = []
    t = _times(duration)
    envelope = np.minimum(1.0, np.minimum(t / 0.01, (duration - t) / 0.02))
    for i, pitch in enumerate(pitches):
        onset = lead + i * (duration + gap)
        f0 = 440 * 2 ** ((pitch - 69) / 12) * 2 ** (vibrato / 12 * np.sin(2 * np.pi * 5.5 * t))
        phase = 2 * np.pi * np.cumsum(f0) / RATE
        tone = sum(np.sin(k * phase) / k for k in range(1, harmonics + 1))
        start = round(onset * RATE)
        out[start : start + len(t)] += 0.3 * tone * envelope
        truth.append((pitch, onset))
    return out, truth


def _recovered(notes: list[dict[str, float]], truth: list[tuple[int, float]], tol: float) -> float:
    hits = sum(
        any(n["pitch"] == pitch and abs(n["start"] - onset) <= tol for n in notes)
        for pitch, onset in truth
    )
    return hits / len(truth)


@pytest.mark.parametrize(
    ("name", "low", "high", "harmonics", "vibrato", "gap"),
    [
        ("vocals", 55, 76, 8, 0.4, 0.1),
        ("keyboard", 48, 84, 1, 0.0, 0.1),
        ("bass", 28, 52, 4, 0.0, 0.05),
        ("backing_vocals", 55, 76, 8, 0.3, 0.0),
    ],
)
def test_transcription_recovers_the_pitch_and_onset_of_each_tone(
    name: str, low: int, high: int, harmonics: int, vibrato: float, gap: float
) -> None:
    rng = np.random.default_rng(5)
    pitches = [int(p) for p in rng.integers(low, high, 24)]
    signal, truth = tones(pitches, 0.35, gap, harmonics, vibrato)
    (instrument,) = transcribe([_stereo(signal)], [name])
    notes = instrument["notes"]
    assert _recovered(notes, truth, 0.05) >= 0.9
    assert len(truth) * 0.9 <= len(notes) <= len(truth) * 1.1
    for note in notes:
        assert 0 <= note["start"] < note["end"] and 0 <= note["velocity"] <= 1
        assert round(note["start"], 4) == note["start"] and round(note["end"], 4) == note["end"]
        assert isinstance(note["pitch"], int)


def _highpassed_noise(seconds: float, low: float, high: float, rng: np.random.Generator) -> Floats:
    noise = rng.standard_normal(round(seconds * RATE))
    spectrum = np.fft.rfft(noise)
    freqs = np.fft.rfftfreq(len(noise), 1 / RATE)
    spectrum[(freqs < low) | (freqs > high)] = 0
    filtered = np.fft.irfft(spectrum, len(noise))
    result: Floats = filtered / np.abs(filtered).max()
    return result


def drum_kit() -> dict[int, Floats]:
    rng = np.random.default_rng(7)
    t = _times(0.25)
    sweep = 50 + 100 * np.exp(-t / 0.03)
    kick = 0.9 * np.sin(2 * np.pi * np.cumsum(sweep) / RATE) * np.exp(-t / 0.08)
    t = _times(0.2)
    snare = 0.5 * _highpassed_noise(0.2, 1000, 8000, rng) * np.exp(-t / 0.05) + 0.4 * np.sin(
        2 * np.pi * 185 * t
    ) * np.exp(-t / 0.04)
    hat = 0.3 * _highpassed_noise(0.06, 7000, 20000, rng) * np.exp(-_times(0.06) / 0.012)
    return {36: kick, 38: snare, 42: hat}


def test_drum_hits_come_back_as_kick_snare_and_hat_at_their_onsets() -> None:
    kit = drum_kit()
    out = np.zeros(round(6.5 * RATE))
    truth: list[tuple[int, float]] = []
    for beat in range(12):
        onset = 0.2 + 0.5 * beat
        pieces = [36 if beat % 2 == 0 else 38]
        if beat % 4 == 0:
            pieces.append(42)  # a hat struck with the kick
        for piece in pieces:
            start = round(onset * RATE)
            out[start : start + len(kit[piece])] += kit[piece]
            truth.append((piece, onset))
        start = round((onset + 0.25) * RATE)
        out[start : start + len(kit[42])] += kit[42]
        truth.append((42, onset + 0.25))
    (drums,) = transcribe([_stereo(out)], ["drums"])
    assert drums["name"] == "Drums"
    assert _recovered(drums["notes"], truth, 0.03) >= 0.9
    assert len(drums["notes"]) <= len(truth) * 1.1
    assert {n["pitch"] for n in drums["notes"]} == {36, 38, 42}


def test_silent_clips_give_no_instrument_and_names_map_to_general_midi() -> None:
    signal, _ = tones([45, 47, 48], 0.3, 0.1, harmonics=3)
    silent = _stereo(np.zeros(RATE))
    quiet = _stereo(np.full(RATE, 1e-6))
    loud, soft = _stereo(signal), _stereo(0.1 * signal)
    instruments = transcribe(
        [silent, loud, quiet, soft, loud], ["vocals", "bass", "drums", "Keyboard", "Lead Vocals"]
    )
    assert [i["name"] for i in instruments] == [
        "Electric Bass (finger)",
        "Acoustic Grand Piano",
        "Voice Oohs",
    ]
    assert [n["pitch"] for n in instruments[0]["notes"]] == [45, 47, 48]
    louder = [n["velocity"] for n in instruments[0]["notes"]]
    softer = [n["velocity"] for n in instruments[1]["notes"]]
    assert min(louder) > max(softer) > 0
    assert transcribe([], []) == []


def test_stem_names_are_normalised() -> None:
    assert stem_role("Backing Vocals") == "backing_vocals"
    assert stem_role("drums_url") == "drums"
    assert stem_role("Percussion") == "percussion"
    assert stem_role("Bass Guitar") == "bass"
    assert stem_role("mystery") == ""


# --- music video ------------------------------------------------------------------------

W, H, FPS = 320, 180, 24


def _track(seconds: float) -> Audio:
    """Loud (110 Hz + 880 Hz) for the first half second, silent after."""
    t = _times(seconds)
    signal = (0.4 * np.sin(2 * np.pi * 110 * t) + 0.2 * np.sin(2 * np.pi * 880 * t)) * (t < 0.5)
    return _stereo(signal)


def _cover() -> npt.NDArray[np.uint8]:
    y, x = np.mgrid[0:H, 0:W]
    return np.stack([x * 255 // W, y * 255 // H, np.full_like(x, 128)], axis=2).astype(np.uint8)


def _video_request(seconds: float = 2.0, **params: str) -> EngineRequest:
    return EngineRequest(
        operation=Capability.MUSIC_VIDEO,
        prompt="",
        width=W,
        height=H,
        num_frames=round(seconds * FPS),
        fps=FPS,
        image=_cover(),
        audio=_track(seconds),
        params=params,
    )


def test_music_video_frames_have_the_size_and_move_with_the_audio() -> None:
    request = _video_request(3.0, title="Night Drive", author="Ana", domain_name="example.com")
    output = music_video(request)
    assert (output.num_frames, output.width, output.height, output.fps) == (72, W, H, FPS)
    assert output.audio is request.audio
    frames = list(output.frames)
    assert len(frames) == 72
    assert all(f.shape == (H, W, 3) and f.dtype == np.uint8 for f in frames)
    layout = Layout.of(W, H)
    bars = (slice(layout.bars_top, layout.bars_bottom), slice(layout.bars_left, layout.bars_right))
    loud, decaying, silent, silent_later = frames[6], frames[18], frames[50], frames[70]
    lit = np.abs(loud[bars].astype(int) - silent[bars].astype(int)).max(axis=2) > 30
    assert lit.mean() > 0.08  # a few tall bars (110 Hz and 880 Hz and their neighbours)
    # The bars fall after the sound stops, then silence leaves them empty:
    # only the progress line moves between two silent frames.
    above_line = slice(0, layout.line_top)
    assert not np.array_equal(decaying[above_line], silent[above_line])
    assert np.array_equal(silent[above_line], silent_later[above_line])
    assert not np.array_equal(silent, silent_later)


def test_music_video_draws_the_title_author_and_domain_over_the_cover() -> None:
    bare = next(iter(music_video(_video_request()).frames))
    titled = next(
        iter(
            music_video(
                _video_request(title="Night Drive", author="Ana", domain_name="example.com")
            ).frames
        )
    )
    changed = np.abs(titled.astype(int) - bare.astype(int)).max(axis=2) > 40
    assert changed[: H // 4, : W // 2].mean() > 0.03  # the title, top left
    assert changed[int(0.92 * H) :, W // 3 : 2 * W // 3].mean() > 0.03  # the domain, bottom
    assert changed[H // 4 : int(0.55 * H)].mean() < 0.01  # nothing over the middle
    gradient = next(iter(music_video(_video_request_without_cover()).frames))
    assert gradient.shape == (H, W, 3) and gradient.std() > 5


def _video_request_without_cover() -> EngineRequest:
    request = _video_request(title="Untitled")
    return EngineRequest(
        operation=request.operation,
        prompt="",
        width=W,
        height=H,
        num_frames=4,
        fps=FPS,
        audio=request.audio,
        params=request.params,
    )


def test_music_video_needs_audio() -> None:
    request = _video_request()
    no_audio = EngineRequest(
        operation=request.operation, prompt="", width=W, height=H, num_frames=4
    )
    with pytest.raises(EngineError) as info:
        music_video(no_audio)
    assert info.value.fail_code == 400


def test_a_music_video_encodes_to_an_mp4_with_its_soundtrack(tmp_path: Path) -> None:
    output = music_video(_video_request(1.5, title="Night Drive"))
    path = tmp_path / "video.mp4"
    with Mp4Writer(path, output.width, output.height, FPS, audio=output.audio) as writer:
        for frame in output.frames:
            writer.write(frame)
    with av.open(str(path)) as container:
        assert len(container.streams.audio) == 1
        video = container.streams.video[0]
        assert (video.codec_context.width, video.codec_context.height) == (W, H)
        assert sum(1 for _ in container.decode(video)) == 36
