"""Suno tests: polling each Suno family in its own words, decoding tracks, comparing audio."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np

from reelserve.engines.base import Audio
from reelserve.media.audio import decode_audio
from tests.kie_families import fetch

MUSIC_DONE = ("SUCCESS", "CREATE_TASK_FAILED", "GENERATE_AUDIO_FAILED", "SENSITIVE_WORD_ERROR")
STRING_DONE = ("SUCCESS", "CREATE_TASK_FAILED", "GENERATE_WAV_FAILED", "GENERATE_AUDIO_FAILED",
               "GENERATE_MP4_FAILED", "GENERATE_LYRICS_FAILED")  # fmt: skip
SIX_LINES = """[Verse]
Neon rivers running through the night
Every window holds a different light
[Chorus]
We are singing where the trains go by
Paper lanterns climbing up the sky
[Outro]
Hold the echo till the morning comes
Count the heartbeats like a row of drums"""


def create(client: httpx.Client, path: str, body: dict[str, Any]) -> str:
    answer = client.post(path, json=body).json()
    assert answer["code"] == 200, answer
    return str(answer["data"]["taskId"])


def refused(client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = client.post(path, json=body).json()
    assert answer["code"] != 200, answer
    return answer


def wait(
    client: httpx.Client,
    path: str,
    task_id: str,
    done: Callable[[dict[str, Any]], bool],
    timeout: float = 300,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(path, params={"taskId": task_id}).json()
        assert body["code"] == 200, body
        data = dict(body["data"])
        if done(data):
            return data
        time.sleep(0.2)
    raise AssertionError(f"{task_id} did not finish in {timeout} s")


def wait_music(client: httpx.Client, task_id: str) -> dict[str, Any]:
    return wait(
        client, "/api/v1/generate/record-info", task_id, lambda d: d["status"] in MUSIC_DONE
    )


def wait_flag(client: httpx.Client, path: str, task_id: str) -> dict[str, Any]:
    """Families whose `successFlag` is a string (WAV, stems, MP4)."""
    return wait(client, path, task_id, lambda d: d["successFlag"] in STRING_DONE)


@dataclass
class Song:
    task_id: str
    record: dict[str, Any]

    @property
    def tracks(self) -> list[dict[str, Any]]:
        return list(self.record["response"]["sunoData"])

    @property
    def audio_id(self) -> str:
        return str(self.tracks[0]["id"])


def song(client: httpx.Client, body: dict[str, Any], path: str = "/api/v1/generate") -> Song:
    task_id = create(client, path, body)
    record = wait_music(client, task_id)
    assert record["status"] == "SUCCESS", record
    return Song(task_id, record)


def custom_song(lyrics: str = SIX_LINES, **extra: Any) -> dict[str, Any]:
    return {
        "prompt": lyrics,
        "style": "synth pop, 110 bpm",
        "title": "Neon Rivers",
        "customMode": True,
        "instrumental": False,
        "model": "V4_5",
        "callBackUrl": "https://example.com/cb",
        **extra,
    }


def audio_at(client: httpx.Client, url: str) -> Audio:
    return decode_audio(fetch(client, url))


def mono(audio: Audio) -> np.ndarray:
    return np.asarray(audio.samples.mean(axis=1), dtype=np.float64)


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples)))) if samples.size else 0.0


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    n = min(len(a), len(b))
    x, y = a[:n] - a[:n].mean(), b[:n] - b[:n].mean()
    denominator = float(np.sqrt(np.sum(x * x) * np.sum(y * y)))
    return float(np.sum(x * y)) / denominator if denominator else 0.0


def best_correlation(a: np.ndarray, b: np.ndarray, max_lag: int = 4096) -> float:
    """The correlation of `a` and `b` at the lag (±max_lag samples) that lines them up best
    (an MP3 round trip may shift a signal by its codec delay)."""
    n = min(len(a), len(b))
    x, y = a[:n] - a[:n].mean(), b[:n] - b[:n].mean()
    size = 1 << int(np.ceil(np.log2(2 * n)))
    spectrum = np.fft.rfft(x, size) * np.conj(np.fft.rfft(y, size))
    cross = np.fft.irfft(spectrum, size)
    lags = np.concatenate([cross[: max_lag + 1], cross[-max_lag:]])
    denominator = float(np.sqrt(np.sum(x * x) * np.sum(y * y)))
    return float(lags.max()) / denominator if denominator else 0.0
