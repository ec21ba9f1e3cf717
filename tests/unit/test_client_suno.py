"""`client.suno` without a server: the bodies it sends (recorded by an httpx MockTransport),
the records it reads (built by the server's own view functions, and KIE's documented
examples), the waiter over Suno's stages, and `download_tracks`."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reelserve.client import (
    AsyncClient,
    AsyncMusicTask,
    Client,
    CoverRecord,
    LyricsRecord,
    MidiRecord,
    MusicRecord,
    MusicTask,
    MusicVideoRecord,
    StemsRecord,
    TaskFailed,
    ValidationError,
    WaitTimeout,
    WavRecord,
)
from reelserve.families.suno import derived_views as dv
from reelserve.families.suno.views import music_record
from reelserve.tasks.models import Artifact, Dialect, Result, Status, Task

BASE = "http://reelserve.test"
CB = "https://example.com/cb"


# -- a scripted server ---------------------------------------------------------------------


class Script:
    """Answers each request from `routes` (path -> data, or a callable of the request),
    and records what was sent."""

    def __init__(self, routes: dict[str, Any]) -> None:
        self.routes = routes
        self.sent: list[tuple[str, str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        path = request.url.path
        self.sent.append((request.method, path, body or dict(request.url.params)))
        if path.startswith("/files/"):
            return httpx.Response(200, content=self.routes[path])
        answer = self.routes.get(path, {"taskId": "suno_1"})
        data = answer(request) if callable(answer) else answer
        if isinstance(data, httpx.Response):
            return data
        return httpx.Response(200, json={"code": 200, "msg": "success", "data": data})

    def bodies(self, path: str) -> list[Any]:
        return [body for method, p, body in self.sent if p == path and method == "POST"]


@pytest.fixture
def script() -> Script:
    return Script({})


@pytest.fixture
def client(script: Script) -> Iterator[Client]:
    with Client(api_key="k", base_url=BASE, transport=httpx.MockTransport(script)) as c:
        yield c


def stages(*records: dict[str, Any]) -> Callable[[httpx.Request], dict[str, Any]]:
    """A record-info that answers `records` in turn, then the last one for ever."""
    left = list(records)

    def answer(request: httpx.Request) -> dict[str, Any]:
        return left.pop(0) if len(left) > 1 else left[0]

    return answer


# -- records as the server builds them ------------------------------------------------------


class Links:
    """The server's MediaLinks, without signing: a URL per blob key."""

    def url(self, task: Task, key: str) -> str:
        return f"{BASE}/files/{key}"


def server_task(
    status: Status,
    artifacts: tuple[Artifact, ...] = (),
    *,
    task_id: str = "suno_0123456789abcdef0123456789abcde0",
    fail_code: int | None = None,
    fail_msg: str = "",
    params: dict[str, Any] | None = None,
) -> Task:
    now = time.time()
    return Task(
        id=task_id,
        seq=1,
        api_key_id="key",
        dialect=Dialect.SUNO,
        operation="text_to_music",
        engine="synthetic",
        status=status,
        params=params if params is not None else {"version": "V4_5", "suno": "generate"},
        request={"prompt": "rain", "customMode": False, "instrumental": False, "model": "V4_5"},
        parent_id=None,
        callback_url=CB,
        created_at=now - 30,
        updated_at=now,
        started_at=now - 29,
        finished_at=now if status.finished else None,
        progress=0.0,
        attempts=1,
        lease_token=None,
        lease_expires_at=None,
        fail_code=fail_code,
        fail_msg=fail_msg,
        result=Result(video_id="v1", artifacts=artifacts) if artifacts else None,
    )


SHEET = Artifact(
    kind="text",
    role="sheet",
    key="media/s/sheet.json",
    mime="application/json",
    data={
        "tracks": [
            {"id": "t-0", "title": "Rain", "lyrics": "[Verse]\nRain on the roof", "tags": "folk"},
            {"id": "t-1", "title": "Rain II", "lyrics": "[Verse]\nRain again", "tags": "folk"},
        ]
    },
)


def track(index: int) -> Artifact:
    return Artifact(
        kind="audio",
        role="track",
        key=f"media/s/track_{index}.mp3",
        mime="audio/mpeg",
        duration=34.5 + index,
        data={"index": index},
    )


def cover(index: int) -> Artifact:
    return Artifact(
        kind="image",
        role="track_cover",
        key=f"media/s/cover_{index}.png",
        mime="image/png",
        data={"index": index},
    )


def song_stage(stage: str) -> dict[str, Any]:
    """A record-info `data` of a song at `stage`, from the server's own view."""
    artifacts: dict[str, tuple[Artifact, ...]] = {
        "pending": (),
        "text": (SHEET,),
        "first": (SHEET, track(0), cover(0)),
        "complete": (SHEET, track(0), cover(0), track(1), cover(1)),
    }
    status = Status.SUCCEEDED if stage == "complete" else Status.RUNNING
    return music_record(server_task(status, artifacts[stage]), Links())  # type: ignore[arg-type]


def failed_song(code: int, message: str) -> dict[str, Any]:
    task = server_task(Status.FAILED, fail_code=code, fail_msg=message)
    return music_record(task, Links())  # type: ignore[arg-type]


# -- bodies ---------------------------------------------------------------------------------


def test_generate_sends_the_required_fields_and_only_the_optional_ones_given(
    client: Client, script: Script
) -> None:
    task = client.suno.generate("a song about rain", callback_url=CB)
    assert isinstance(task, MusicTask) and task.id == "suno_1" and task.kind == "suno"
    client.suno.generate(
        "[Verse]\nRain",
        style="folk",
        title="Rain",
        custom_mode=True,
        model="V5",
        negative_tags="metal",
        vocal_gender="f",
        style_weight=0.6,
        weirdness_constraint=0.2,
        audio_weight=0.5,
        persona_id="persona_1",
    )
    plain, custom = script.bodies("/api/v1/generate")
    assert plain == {
        "prompt": "a song about rain",
        "customMode": False,
        "instrumental": False,
        "model": "V4_5",
        "callBackUrl": CB,
    }
    assert custom == {
        "prompt": "[Verse]\nRain",
        "style": "folk",
        "title": "Rain",
        "customMode": True,
        "instrumental": False,
        "model": "V5",
        "personaId": "persona_1",
        "negativeTags": "metal",
        "vocalGender": "f",
        "styleWeight": 0.6,
        "weirdnessConstraint": 0.2,
        "audioWeight": 0.5,
    }  # no callBackUrl: the SDK invents none (the server answers 422 for it)


def test_extend_sets_default_param_flag_from_the_custom_fields(
    client: Client, script: Script
) -> None:
    client.suno.extend("t-0", continue_at=20, callback_url=CB)
    client.suno.extend("t-0", prompt="[Verse]\nmore", style="folk", title="Rain 2", continue_at=20)
    client.suno.extend("t-0", default_param_flag=True, model="V5")
    inherit, own, forced = script.bodies("/api/v1/generate/extend")
    assert inherit == {
        "audioId": "t-0",
        "defaultParamFlag": False,
        "prompt": "",
        "continueAt": 20,
        "model": "V4_5",
        "callBackUrl": CB,
    }
    assert own["defaultParamFlag"] is True and own["style"] == "folk" and own["title"] == "Rain 2"
    assert forced["defaultParamFlag"] is True and forced["model"] == "V5"


def test_every_task_endpoint_posts_to_its_path_with_wire_names(
    client: Client, script: Script
) -> None:
    suno = client.suno
    songs = [
        suno.upload_cover("https://a/x.mp3", style="jazz", title="X", custom_mode=True),
        suno.upload_extend("https://a/x.mp3", continue_at=10.5),
        suno.add_vocals("https://a/x.mp3", "la la", style="pop", title="X"),
        suno.add_instrumental("https://a/v.mp3", tags="rock", title="X"),
        suno.replace_section(
            "suno_1",
            "t-0",
            prompt="new words",
            tags="folk",
            title="Rain",
            infill_start_s=10,
            infill_end_s=20,
            full_lyrics="all words",
        ),
        suno.mashup(["https://a/1.mp3", "https://a/2.mp3"], style="mix", title="M"),
        suno.sounds("rain on a tin roof", tempo=90, key="Am", loop=True),
    ]
    others = [
        suno.lyrics("rain", callback_url=CB),
        suno.wav("suno_1", "t-0"),
        suno.stems("suno_1", "t-0", "split_stem"),
        suno.midi("stems_1"),
        suno.music_video("suno_1", "t-0", author="me", domain_name="example.com"),
        suno.cover("suno_1"),
    ]
    assert all(isinstance(t, MusicTask) for t in songs)
    assert [t.kind for t in others] == [
        "suno_lyrics",
        "suno_wav",
        "suno_stems",
        "suno_midi",
        "suno_mp4",
        "suno_cover",
    ]
    sent = {path: body for _, path, body in script.sent}
    assert sent["/api/v1/generate/upload-cover"]["uploadUrl"] == "https://a/x.mp3"
    assert sent["/api/v1/generate/upload-extend"] == {
        "uploadUrl": "https://a/x.mp3",
        "defaultParamFlag": False,
        "continueAt": 10.5,
        "prompt": "",
        "instrumental": False,
        "model": "V4_5",
    }
    assert sent["/api/v1/generate/add-vocals"]["negativeTags"] == ""  # required by KIE
    assert sent["/api/v1/generate/add-vocals"]["model"] == "V4_5PLUS"
    assert sent["/api/v1/generate/add-instrumental"]["tags"] == "rock"
    assert sent["/api/v1/generate/replace-section"]["infillEndS"] == 20
    assert sent["/api/v1/generate/replace-section"]["fullLyrics"] == "all words"
    assert sent["/api/v1/generate/mashup"]["uploadUrlList"] == [
        "https://a/1.mp3",
        "https://a/2.mp3",
    ]
    assert sent["/api/v1/generate/sounds"] == {
        "prompt": "rain on a tin roof",
        "model": "V5",
        "soundLoop": True,
        "soundTempo": 90,
        "soundKey": "Am",
    }
    assert sent["/api/v1/lyrics"] == {"prompt": "rain", "callBackUrl": CB}
    assert sent["/api/v1/wav/generate"] == {"taskId": "suno_1", "audioId": "t-0"}
    assert sent["/api/v1/vocal-removal/generate"]["type"] == "split_stem"
    assert sent["/api/v1/midi/generate"] == {"taskId": "stems_1"}
    assert sent["/api/v1/mp4/generate"]["domainName"] == "example.com"
    assert sent["/api/v1/suno/cover/generate"] == {"taskId": "suno_1"}


def test_stems_default_to_separate_vocal(client: Client, script: Script) -> None:
    client.suno.stems("suno_1", "t-0")
    assert script.bodies("/api/v1/vocal-removal/generate")[0]["type"] == "separate_vocal"


def test_the_synchronous_endpoints(client: Client, script: Script) -> None:
    script.routes["/api/v1/generate/get-timestamped-lyrics"] = {
        "alignedWords": [
            {"word": "[Verse]\nRain", "success": True, "startS": 1.36, "endS": 1.79, "palign": 0}
        ],
        "waveformData": [0, 0.5, 1],
        "hootCer": 0.38,
        "isStreamed": False,
    }
    script.routes["/api/v1/generate/generate-persona"] = {
        "personaId": "persona_1",
        "name": "Mia",
        "description": "warm alto",
    }
    script.routes["/api/v1/style/generate"] = {
        "taskId": "style_1",
        "param": "Pop, Mysterious",
        "result": "Pop, mysterious, airy synths",
        "creditsConsumed": 0,
        "creditsRemaining": 2147483647,
        "successFlag": "1",
    }
    words = client.suno.timestamped_lyrics("suno_1", "t-0")
    assert words.aligned_words[0].word == "[Verse]\nRain"
    assert (words.aligned_words[0].start_s, words.aligned_words[0].end_s) == (1.36, 1.79)
    assert words.waveform == [0.0, 0.5, 1.0] and words.hoot_cer == 0.38
    persona = client.suno.persona("suno_1", "t-0", "Mia", "warm alto")
    assert persona.persona_id == "persona_1"
    assert client.suno.boost_style("Pop, Mysterious").result == "Pop, mysterious, airy synths"
    assert script.bodies("/api/v1/generate/get-timestamped-lyrics") == [
        {"taskId": "suno_1", "audioId": "t-0"}
    ]
    assert script.bodies("/api/v1/generate/generate-persona") == [
        {"taskId": "suno_1", "audioId": "t-0", "name": "Mia", "description": "warm alto"}
    ]


def test_a_refused_submit_is_the_sdks_validation_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"code": 422, "msg": "callBackUrl: is required"})

    transport = httpx.MockTransport(refuse)
    with (
        Client(api_key="k", base_url=BASE, transport=transport) as c,
        pytest.raises(ValidationError) as caught,
    ):
        c.suno.generate("rain")
    assert caught.value.field == "callBackUrl"


# -- records --------------------------------------------------------------------------------


def test_the_servers_song_record_at_each_stage() -> None:
    pending = MusicRecord.from_data(song_stage("pending"))
    text = MusicRecord.from_data(song_stage("text"))
    first = MusicRecord.from_data(song_stage("first"))
    done = MusicRecord.from_data(song_stage("complete"))
    assert [r.status for r in (pending, text, first, done)] == [
        "PENDING",
        "TEXT_SUCCESS",
        "FIRST_SUCCESS",
        "SUCCESS",
    ]
    assert [r.state for r in (pending, text, first, done)] == [
        "generating",
        "generating",
        "generating",
        "success",
    ]
    assert [r.progress for r in (pending, text, first, done)] == [0.0, 1 / 3, 2 / 3, 1.0]
    assert pending.tracks == [] and not pending.first_ready
    assert [t.title for t in text.tracks] == ["Rain", "Rain II"]
    assert text.tracks[0].audio_url == "" and text.tracks[0].duration is None
    assert not text.first_ready
    assert first.first_ready and first.tracks[0].audio_url.endswith("track_0.mp3")
    assert first.tracks[1].audio_url == ""
    assert done.first_ready and done.succeeded
    one, two = done.tracks
    assert one.id == "t-0" and one.lyrics == "[Verse]\nRain on the roof" and one.tags == "folk"
    assert one.stream_audio_url == one.audio_url and one.image_url.endswith("cover_0.png")
    assert (one.duration, two.duration) == (34.5, 35.5)
    assert one.model_name.startswith("chirp-")
    assert done.video_url == one.audio_url and done.cover_url == one.image_url
    assert done.audio_urls == [one.audio_url, two.audio_url]
    assert done.params["prompt"] == "rain" and done.operation_type == "generate"


def test_the_servers_song_failures_carry_the_error_code() -> None:
    bad_input = MusicRecord.from_data(failed_song(400, "Lyrics contained copyrighted material."))
    broken = MusicRecord.from_data(failed_song(500, "Audio generation failed."))
    assert (bad_input.status, bad_input.fail_code) == ("CREATE_TASK_FAILED", 400)
    assert (broken.status, broken.fail_code) == ("GENERATE_AUDIO_FAILED", 501)
    assert broken.failed and broken.fail_msg == "Audio generation failed."


def test_kies_documented_song_records_read_the_same() -> None:
    success = MusicRecord.from_data(
        {
            "taskId": "5c79be8e",
            "parentMusicId": "",
            "param": '{"prompt":"A calm piano track","customMode":true,"model":"V3_5"}',
            "response": {
                "taskId": "5c79be8e",
                "sunoData": [
                    {
                        "id": "e231-8cadc7dc",
                        "audioUrl": "https://example.cn/a.mp3",
                        "streamAudioUrl": "https://example.cn/a",
                        "imageUrl": "https://example.cn/a.jpeg",
                        "prompt": "[Verse] Night city",
                        "modelName": "chirp-v3-5",
                        "title": "Iron Man",
                        "tags": "electrifying, rock",
                        "createTime": "2025-01-01 00:00:00",
                        "duration": 198.44,
                    }
                ],
            },
            "status": "SUCCESS",
            "type": "GENERATE",
            "errorCode": None,
            "errorMessage": None,
        }
    )
    assert success.succeeded and success.tracks[0].duration == 198.44
    assert success.params == {"prompt": "A calm piano track", "customMode": True, "model": "V3_5"}
    failure = MusicRecord.from_data(
        {
            "taskId": "x",
            "response": {"taskId": "x", "sunoData": [], "errorMessage": "生成失败"},
            "status": "GENERATE_AUDIO_FAILED",
            "type": "GENERATE",
            "errorCode": 501,
            "errorMessage": None,
        }
    )
    assert failure.failed and (failure.fail_code, failure.fail_msg) == (501, "生成失败")
    for word in ("SENSITIVE_WORD_ERROR", "CALLBACK_EXCEPTION", "CREATE_TASK_FAILED"):
        record = MusicRecord.from_data({"taskId": "x", "status": word})
        assert record.failed and record.fail_msg == word
    snake = MusicRecord.from_data(
        {
            "taskId": "x",
            "status": "FIRST_SUCCESS",
            "response": {"sunoData": [{"id": "a", "audio_url": "https://e/a.mp3"}]},
        }
    )
    assert snake.first_ready and snake.tracks[0].audio_url == "https://e/a.mp3"


def derived(
    view: Callable[..., dict[str, Any]], status: Status, *artifacts: Artifact, **kw: Any
) -> dict[str, Any]:
    params = {"audio_id": "t-0", "mode": kw.pop("mode", "separate_vocal")}
    task = server_task(status, artifacts, params=params, **kw)
    return view(task, Links())


def test_the_servers_derived_records() -> None:
    lyrics = LyricsRecord.from_data(
        derived(
            dv.lyrics_record,
            Status.SUCCEEDED,
            Artifact(
                kind="text",
                role="text",
                key="k",
                mime="application/json",
                data={"lyrics": [{"text": "[Verse]\nla", "title": "La"}]},
            ),
        )
    )
    assert lyrics.succeeded and lyrics.sheets[0].title == "La" and lyrics.status == "SUCCESS"
    wav = WavRecord.from_data(
        derived(dv.wav_record, Status.SUCCEEDED, Artifact("audio", "audio", "m/a.wav", "audio/wav"))
    )
    assert wav.succeeded and wav.wav_url.endswith("a.wav") and wav.success_flag == "SUCCESS"
    assert wav.video_url == wav.wav_url and wav.music_id == "t-0"
    pending = WavRecord.from_data(derived(dv.wav_record, Status.RUNNING))
    assert pending.success_flag == "PENDING" and not pending.finished
    failed = WavRecord.from_data(derived(dv.wav_record, Status.FAILED, fail_msg="no"))
    assert failed.success_flag == "GENERATE_WAV_FAILED" and failed.failed
    stems = StemsRecord.from_data(
        derived(
            dv.stems_record,
            Status.SUCCEEDED,
            Artifact("audio", "stem", "m/v.mp3", "audio/mpeg", data={"name": "vocals", "id": "s1"}),
            Artifact(
                "audio", "stem", "m/i.mp3", "audio/mpeg", data={"name": "instrumental", "id": "s2"}
            ),
        )
    )
    assert set(stems.stems) == {"vocal", "instrumental"}
    assert stems.vocal_url.endswith("v.mp3") and stems.instrumental_url.endswith("i.mp3")
    assert [s.id for s in stems.origin_data] == ["s1", "s2"]
    assert stems.origin_data[0].name == "Vocals" and stems.stem_type == "separate_vocal"
    mp4 = MusicVideoRecord.from_data(
        derived(dv.mp4_record, Status.SUCCEEDED, Artifact("video", "video", "m/v.mp4", "video/mp4"))
    )
    assert mp4.succeeded and mp4.video_url.endswith("v.mp4")
    midi = MidiRecord.from_data(
        derived(
            dv.midi_record,
            Status.SUCCEEDED,
            Artifact(
                "text",
                "text",
                "k",
                "application/json",
                data={"instruments": [{"name": "Drums", "notes": [{"pitch": 36, "start": 0.5}]}]},
            ),
        )
    )
    assert midi.succeeded and midi.success_flag == 1
    assert midi.instruments[0].notes[0].pitch == 36
    assert MidiRecord.from_data(derived(dv.midi_record, Status.FAILED)).failed
    art = CoverRecord.from_data(
        derived(
            dv.cover_record, Status.SUCCEEDED, Artifact("image", "image", "m/c.png", "image/png")
        )
    )
    assert art.succeeded and art.images[0].endswith("c.png")
    generating = CoverRecord.from_data(derived(dv.cover_record, Status.RUNNING))
    assert generating.success_flag == 2 and not generating.finished  # 2 is generating here
    assert CoverRecord.from_data(derived(dv.cover_record, Status.FAILED)).failed


def test_kies_documented_derived_records() -> None:
    midi = MidiRecord.from_data(
        {
            "taskId": "m",
            "recordTaskId": -1,
            "midiData": {
                "state": "complete",
                "instruments": [
                    {
                        "name": "Drums",
                        "notes": [{"pitch": 73, "start": "0.0364", "end": 0.1822, "velocity": 1}],
                    }
                ],
            },
            "successFlag": 1,
        }
    )
    note = midi.instruments[0].notes[0]
    assert (note.pitch, note.start, note.end, note.velocity) == (73, 0.0364, 0.1822, 1.0)
    stems = StemsRecord.from_data(
        {
            "taskId": "s",
            "successFlag": "SUCCESS",
            "response": {"vocalUrl": "https://e/v.mp3", "instrumentalUrl": "https://e/i.mp3",
                         "drumsUrl": None, "originUrl": ""},
        }
    )  # fmt: skip
    assert stems.stems == {"vocal": "https://e/v.mp3", "instrumental": "https://e/i.mp3"}
    cover_states = [CoverRecord.from_data({"successFlag": f}).state for f in (0, 1, 2, 3)]
    assert cover_states == ["generating", "success", "generating", "fail"]
    for flag in ("CALLBACK_EXCEPTION", "GENERATE_MP4_FAILED"):
        assert MusicVideoRecord.from_data({"successFlag": flag}).failed


# -- the waiter -----------------------------------------------------------------------------


def test_wait_first_returns_at_first_success_and_complete_waits_for_both(
    client: Client, script: Script
) -> None:
    record_info = "/api/v1/generate/record-info"
    script.routes[record_info] = stages(
        song_stage("pending"), song_stage("text"), song_stage("first"), song_stage("complete")
    )
    task = client.suno.generate("rain", callback_url=CB)
    seen: list[str] = []
    first = task.wait(poll_interval=0.01, until="first", on_progress=lambda r: seen.append(r.state))
    assert first.status == "FIRST_SUCCESS" and first.tracks[0].audio_url
    assert len(seen) == 3
    done = task.wait(poll_interval=0.01)
    assert done.status == "SUCCESS" and len(done.audio_urls) == 2
    polls = [p for _, p, _ in script.sent if p == record_info]
    assert len(polls) == 4


def test_wait_first_at_success_returns_success(client: Client, script: Script) -> None:
    script.routes["/api/v1/generate/record-info"] = song_stage("complete")
    assert client.suno.task("suno_1").wait(until="first").status == "SUCCESS"


def test_a_failed_song_raises_task_failed_with_its_code(client: Client, script: Script) -> None:
    script.routes["/api/v1/generate/record-info"] = stages(
        song_stage("text"), failed_song(500, "Audio generation failed.")
    )
    with pytest.raises(TaskFailed) as caught:
        client.suno.generate("rain", callback_url=CB).wait(poll_interval=0.01, until="first")
    assert caught.value.fail_code == 501 and caught.value.fail_msg == "Audio generation failed."
    script.routes["/api/v1/generate/record-info"] = {
        "taskId": "x",
        "status": "SENSITIVE_WORD_ERROR",
    }
    with pytest.raises(TaskFailed, match="SENSITIVE_WORD_ERROR"):
        client.suno.task("x").wait(poll_interval=0.01)


def test_other_families_wait_on_their_own_flags(client: Client, script: Script) -> None:
    script.routes["/api/v1/suno/cover/record-info"] = stages(
        {"taskId": "c", "successFlag": 0},
        {"taskId": "c", "successFlag": 2},
        {"taskId": "c", "successFlag": 1, "response": {"images": ["https://e/c.png"]}},
    )
    record = client.suno.cover("suno_1").wait(poll_interval=0.01)
    assert isinstance(record, CoverRecord) and record.images == ["https://e/c.png"]
    script.routes["/api/v1/wav/record-info"] = {
        "taskId": "w",
        "successFlag": "GENERATE_WAV_FAILED",
        "errorCode": 500,
        "errorMessage": "Internal Error",
    }
    with pytest.raises(TaskFailed) as caught:
        client.suno.wav("suno_1", "t-0").wait(poll_interval=0.01)
    assert caught.value.fail_code == 500
    script.routes["/api/v1/midi/record-info"] = {"taskId": "m", "successFlag": 0}
    with pytest.raises(WaitTimeout):
        client.suno.midi("stems_1").wait(timeout=0.05, poll_interval=0.01)


def test_wait_refuses_an_unknown_until(client: Client, script: Script) -> None:
    script.routes["/api/v1/generate/record-info"] = song_stage("text")
    with pytest.raises(ValueError, match="until"):
        client.suno.task("x").wait(until="half")  # type: ignore[arg-type]


def test_typed_getters(client: Client, script: Script) -> None:
    script.routes["/api/v1/generate/record-info"] = song_stage("complete")
    script.routes["/api/v1/lyrics/record-info"] = {"taskId": "l", "status": "PENDING"}
    script.routes["/api/v1/vocal-removal/record-info"] = {"taskId": "s", "successFlag": "PENDING"}
    assert client.suno.get("suno_1").status == "SUCCESS"
    assert client.suno.get_lyrics("l").status == "PENDING"
    assert client.suno.get_stems("s").success_flag == "PENDING"
    assert ("GET", "/api/v1/lyrics/record-info", {"taskId": "l"}) in script.sent


# -- downloads ------------------------------------------------------------------------------


def test_download_tracks_saves_both_mp3s_and_covers(
    client: Client, script: Script, tmp_path: Path
) -> None:
    script.routes["/api/v1/generate/record-info"] = song_stage("complete")
    for name in ("track_0.mp3", "track_1.mp3", "cover_0.png", "cover_1.png"):
        script.routes[f"/files/media/s/{name}"] = name.encode()
    files = client.suno.generate("rain", callback_url=CB).download_tracks(tmp_path)
    assert [f.name for f in files] == ["t-0.mp3", "t-0.png", "t-1.mp3", "t-1.png"]
    assert files[2].read_bytes() == b"track_1.mp3"
    only = client.suno.task("suno_1").download_tracks(tmp_path / "a", covers=False)
    assert [f.name for f in only] == ["t-0.mp3", "t-1.mp3"]


def test_a_task_without_a_file_says_so(client: Client, script: Script, tmp_path: Path) -> None:
    script.routes["/api/v1/midi/record-info"] = {"taskId": "m", "successFlag": 1}
    with pytest.raises(Exception, match="no file to download"):
        client.suno.midi("stems_1").download(tmp_path / "x")


# -- async ----------------------------------------------------------------------------------


def test_the_async_twin(tmp_path: Path) -> None:
    script = Script(
        {
            "/api/v1/generate/record-info": stages(
                song_stage("text"), song_stage("first"), song_stage("complete")
            ),
            "/api/v1/style/generate": {"result": "folk, warm"},
        }
    )
    for name in ("track_0.mp3", "track_1.mp3"):
        script.routes[f"/files/media/s/{name}"] = b"ID3"

    async def main() -> None:
        transport = httpx.MockTransport(script)
        async with AsyncClient(api_key="k", base_url=BASE, transport=transport) as client:
            task = await client.suno.generate("rain", callback_url=CB)
            assert isinstance(task, AsyncMusicTask)
            first = await task.wait(poll_interval=0.01, until="first")
            assert first.status == "FIRST_SUCCESS"
            files = await task.download_tracks(tmp_path, covers=False, timeout=5)
            assert [f.name for f in files] == ["t-0.mp3", "t-1.mp3"]
            assert (await client.suno.boost_style("folk")).result == "folk, warm"
            stems = await client.suno.stems("suno_1", "t-0")
            assert stems.kind == "suno_stems"

    asyncio.run(main())
