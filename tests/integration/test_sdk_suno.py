"""`client.suno` against a real server (SQLite, local blobs, in-process worker, the synthetic
music engine): a song waited for at its first track and at its end, both tracks downloaded
and decoded, a derived WAV, and a failing task raising the family's error code.

One short custom song (one lyric line: 34 s) serves every test but the failure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from reelserve.client import (
    AsyncClient,
    Client,
    MusicRecord,
    MusicTask,
    TaskFailed,
    WavRecord,
)
from reelserve.media.audio import decode_audio
from tests.receivers import Receiver, Reply
from tests.support import RunningServer, StaticHttpServer, png_bytes, run_server

LYRICS = "[Verse]\nRain is falling on the roof"
ONE_LINE_SECONDS = 30 + 4


@dataclass
class Song:
    server: RunningServer
    client: Client
    callback: str
    task: MusicTask
    first: MusicRecord
    first_seen: list[str]
    done: MusicRecord


@pytest.fixture(scope="module")
def song(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Song]:
    with (
        Receiver() as receiver,
        run_server(tmp_path_factory.mktemp("sdk-suno"), worker_poll_s=0.1) as server,
        Client(api_key=server.keys["alice"], base_url=server.base_url) as client,
    ):
        callback = receiver.script("/song", Reply(200))
        task = client.suno.generate(
            LYRICS, style="folk, 100 bpm", title="Rain", custom_mode=True, callback_url=callback
        )
        seen: list[str] = []
        first = task.wait(
            timeout=300,
            poll_interval=0.1,
            until="first",
            on_progress=lambda r: seen.append(r.state),
        )
        done = task.wait(timeout=300, poll_interval=0.2)
        yield Song(server, client, callback, task, first, seen, done)


def test_wait_until_first_returns_with_track_0_ready(song: Song) -> None:
    first = song.first
    assert first.status in ("FIRST_SUCCESS", "SUCCESS")
    assert first.first_ready and first.tracks[0].audio_url
    assert [t.id for t in first.tracks] == [t.id for t in song.done.tracks]
    assert song.first_seen[-1] in ("generating", "success")


def test_the_song_completes_with_two_tracks_that_decode(song: Song, tmp_path: Path) -> None:
    done = song.done
    assert done.status == "SUCCESS" and done.succeeded and len(done.tracks) == 2
    files = song.task.download_tracks(tmp_path)
    mp3s = [f for f in files if f.suffix == ".mp3"]
    assert [f.stem for f in mp3s] == [t.id for t in done.tracks]
    assert len(files) == 4  # and each track's cover art
    for path, track in zip(mp3s, done.tracks, strict=True):
        audio = decode_audio(path)
        assert abs(audio.seconds - ONE_LINE_SECONDS) < 1.0
        assert track.duration is not None and abs(track.duration - audio.seconds) < 0.5
        assert float(np.abs(audio.samples).max()) > 0.01
        assert track.title and "Rain is falling on the roof" in track.lyrics


def test_a_wav_of_a_track_is_the_same_length(song: Song, tmp_path: Path) -> None:
    track = song.done.tracks[0]
    task = song.client.suno.wav(song.task.id, track.id, callback_url=song.callback)
    record = task.wait(timeout=120, poll_interval=0.2)
    assert isinstance(record, WavRecord) and record.success_flag == "SUCCESS"
    wav = decode_audio(task.download(tmp_path / "track.wav"))
    assert abs(wav.seconds - (track.duration or 0)) < 0.5


def test_the_async_twin_reads_the_same_song(song: Song) -> None:
    async def read() -> MusicRecord:
        key = song.server.keys["alice"]
        async with AsyncClient(api_key=key, base_url=song.server.base_url) as client:
            return await client.suno.task(song.task.id).wait(timeout=30, until="first")

    record = asyncio.run(read())
    assert record.status == "SUCCESS" and [t.id for t in record.tracks] == [
        t.id for t in song.done.tracks
    ]


def test_a_failing_task_raises_task_failed_with_the_familys_code(song: Song) -> None:
    static = StaticHttpServer()
    try:
        not_audio = static.add("/not-audio.png", png_bytes(64, 64), "image/png")
        task = song.client.suno.add_instrumental(
            not_audio, tags="funk", title="X", negative_tags="metal", callback_url=song.callback
        )
        with pytest.raises(TaskFailed) as caught:
            task.wait(timeout=120, poll_interval=0.2, until="first")
    finally:
        static.close()
    assert caught.value.fail_code == 400  # CREATE_TASK_FAILED: the input was at fault
    record = song.client.suno.get(task.id)
    assert record.status == "CREATE_TASK_FAILED" and record.tracks == []
