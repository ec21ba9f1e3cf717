"""Typed answers of the Suno family (kie-families.md §6, notes §4, §6 and §7's cheat sheet).

Each Suno family keeps KIE's own status field: songs and lyrics a `status`
word, WAV, stems and music videos a `successFlag` **string**, MIDI an int
`successFlag` (2 = failed), cover art an int `successFlag` where **2 is still
generating** and 3 failed. Every record maps its own words onto the SDK's
`state` (generating, success, fail) so one waiter serves them all; the
family's word stays in `status` / `success_flag`.

A song's `progress` is its stage as a fraction: PENDING 0, TEXT_SUCCESS 1/3,
FIRST_SUCCESS 2/3, SUCCESS 1 (KIE gives no percentage).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reelserve.client.models import TaskRecord, _int_or_none, _json_object, _str

SUNO_FAILURES = frozenset(
    {
        "CREATE_TASK_FAILED",
        "GENERATE_AUDIO_FAILED",
        "SENSITIVE_WORD_ERROR",
        "CALLBACK_EXCEPTION",
        "GENERATE_LYRICS_FAILED",
        "GENERATE_WAV_FAILED",
        "GENERATE_MP4_FAILED",
    }
)
"""Terminal failure words of the songs, lyrics, WAV, stems and music-video records."""

MUSIC_STAGES = {"PENDING": 0.0, "TEXT_SUCCESS": 1 / 3, "FIRST_SUCCESS": 2 / 3, "SUCCESS": 1.0}
"""A song's stages in order, with the progress each stands for."""


def word_state(word: str) -> str:
    """The SDK's state for a Suno status word (an unknown `…_FAILED`/`…_ERROR` is a failure)."""
    if word == "SUCCESS":
        return "success"
    if word in SUNO_FAILURES or word.endswith(("_FAILED", "_ERROR", "_EXCEPTION")):
        return "fail"
    return "generating"


def _float_or_none(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _pick(item: dict[str, Any], *keys: str) -> str:
    """The first non-empty of `keys` (record-info is camelCase, callbacks snake_case)."""
    for key in keys:
        if item.get(key):
            return str(item[key])
    return ""


def _failure(state: str, data: dict[str, Any], word: str) -> tuple[int | None, str]:
    """(fail_code, fail_msg) of a failed record; (None, "") otherwise."""
    if state != "fail":
        return None, ""
    response = _dict(data.get("response"))
    message = _str(data.get("errorMessage") or response.get("errorMessage")) or word
    return _int_or_none(data.get("errorCode")), message


@dataclass(frozen=True, kw_only=True)
class SunoTrack:
    """One of a song's tracks (`response.sunoData[]`, or a callback's `data.data[]`)."""

    id: str
    """The track's audio id: what extend, WAV, stems, video and personas take as `audioId`."""
    audio_url: str
    """The MP3; empty until the track is stored."""
    stream_audio_url: str
    image_url: str
    """The track's cover art."""
    title: str
    tags: str
    prompt: str
    """The lyrics (KIE names them `prompt`)."""
    duration: float | None
    """Seconds; None until the track is stored."""
    model_name: str
    create_time: str
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def lyrics(self) -> str:
        return self.prompt

    @classmethod
    def from_data(cls, item: dict[str, Any]) -> SunoTrack:
        audio = _pick(item, "audioUrl", "audio_url", "sourceAudioUrl", "source_audio_url")
        return cls(
            id=_str(item.get("id")),
            audio_url=audio,
            stream_audio_url=_pick(
                item,
                "streamAudioUrl",
                "stream_audio_url",
                "sourceStreamAudioUrl",
                "source_stream_audio_url",
            ),
            image_url=_pick(item, "imageUrl", "image_url", "sourceImageUrl", "source_image_url"),
            title=_str(item.get("title")),
            tags=_str(item.get("tags")),
            prompt=_str(item.get("prompt")),
            duration=_float_or_none(item.get("duration")),
            model_name=_pick(item, "modelName", "model_name"),
            create_time=_str(item.get("createTime")),
            raw=item,
        )


@dataclass(frozen=True, kw_only=True)
class MusicRecord(TaskRecord):
    """`GET /api/v1/generate/record-info`: every song task (generate, extend, upload-cover,
    upload-extend, add-vocals, add-instrumental, replace-section, mashup, sounds).

    `video_url` and `cover_url` are track 0's MP3 and cover (what `Task.download` saves)."""

    status: str
    """PENDING, TEXT_SUCCESS, FIRST_SUCCESS, SUCCESS, or a failure word (`SUNO_FAILURES`)."""
    tracks: list[SunoTrack]
    parent_music_id: str
    type: str
    operation_type: str
    params: dict[str, Any]
    """The request as submitted (`param`, a JSON string on the wire)."""
    create_time: str

    @property
    def first_ready(self) -> bool:
        """FIRST_SUCCESS (or SUCCESS) with track 0's MP3 URL set."""
        return self.status in ("FIRST_SUCCESS", "SUCCESS") and bool(
            self.tracks and self.tracks[0].audio_url
        )

    @property
    def audio_urls(self) -> list[str]:
        return [t.audio_url for t in self.tracks if t.audio_url]

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> MusicRecord:
        status = _str(data.get("status"))
        state = word_state(status)
        response = _dict(data.get("response"))
        tracks = [SunoTrack.from_data(_dict(t)) for t in _list(response.get("sunoData"))]
        fail_code, fail_msg = _failure(state, data, status)
        return cls(
            task_id=_str(data.get("taskId") or response.get("taskId")),
            state=state,
            progress=MUSIC_STAGES.get(status, 0.0),
            video_url=tracks[0].audio_url if tracks else "",
            cover_url=tracks[0].image_url if tracks else "",
            fail_code=fail_code,
            fail_msg=fail_msg,
            expired=False,
            raw=data,
            status=status,
            tracks=tracks,
            parent_music_id=_str(data.get("parentMusicId")),
            type=_str(data.get("type")),
            operation_type=_str(data.get("operationType")),
            params=_json_object(data.get("param")),
            create_time=_str(data.get("createTime")),
        )


@dataclass(frozen=True, kw_only=True)
class LyricsSheet:
    text: str
    title: str
    status: str
    """complete or failed."""
    error_message: str


@dataclass(frozen=True, kw_only=True)
class LyricsRecord(TaskRecord):
    """`GET /api/v1/lyrics/record-info`: `status` PENDING, SUCCESS or a failure word."""

    status: str
    sheets: list[LyricsSheet]
    params: dict[str, Any]

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> LyricsRecord:
        status = _str(data.get("status"))
        state = word_state(status)
        items = _list(_dict(data.get("response")).get("data"))
        fail_code, fail_msg = _failure(state, data, status)
        return cls(
            task_id=_str(data.get("taskId")),
            state=state,
            progress=1.0 if state == "success" else 0.0,
            video_url="",
            cover_url="",
            fail_code=fail_code,
            fail_msg=fail_msg,
            expired=False,
            raw=data,
            status=status,
            sheets=[
                LyricsSheet(
                    text=_str(i.get("text")),
                    title=_str(i.get("title")),
                    status=_str(i.get("status")),
                    error_message=_str(i.get("errorMessage")),
                )
                for i in map(_dict, items)
            ],
            params=_json_object(data.get("param")),
        )


def _flag_record_core(data: dict[str, Any], url: str) -> dict[str, Any]:
    """The `TaskRecord` fields of a record with a string `successFlag` (WAV, stems, MP4)."""
    flag = _str(data.get("successFlag"))
    state = word_state(flag)
    fail_code, fail_msg = _failure(state, data, flag)
    return {
        "task_id": _str(data.get("taskId")),
        "state": state,
        "progress": 1.0 if state == "success" else 0.0,
        "video_url": url,
        "cover_url": "",
        "fail_code": fail_code,
        "fail_msg": fail_msg,
        "expired": False,
        "raw": data,
        "success_flag": flag,
        "music_id": _str(data.get("musicId") or data.get("audioId")),
        "create_time_ms": _int_or_none(data.get("createTime")),
        "complete_time_ms": _int_or_none(data.get("completeTime")),
    }


@dataclass(frozen=True, kw_only=True)
class WavRecord(TaskRecord):
    """`GET /api/v1/wav/record-info`: `successFlag` string PENDING | SUCCESS | failure word."""

    success_flag: str
    music_id: str
    create_time_ms: int | None
    complete_time_ms: int | None
    wav_url: str

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> WavRecord:
        url = _str(_dict(data.get("response")).get("audioWavUrl"))
        return cls(**_flag_record_core(data, url), wav_url=url)


@dataclass(frozen=True, kw_only=True)
class Stem:
    """One entry of the stems record's `originData` (its `id` is MIDI's `audioId`)."""

    id: str
    name: str
    """KIE's group name: Vocals, Instrumental, Drums, Bass…"""
    audio_url: str
    duration: float | None


def _stem_name(key: str) -> str:
    name = key.removesuffix("Url")
    return "vocal" if name == "vocals" else name  # KIE's `vocalUrl`; read `vocalsUrl` too


def _stem_urls(response: dict[str, Any]) -> dict[str, str]:
    """`vocalUrl`, `drumsUrl`… as {"vocal": url, "drums": url} (absent stems left out)."""
    return {
        _stem_name(key): str(value)
        for key, value in response.items()
        if key.endswith("Url") and key != "originUrl" and value
    }


@dataclass(frozen=True, kw_only=True)
class StemsRecord(TaskRecord):
    """`GET /api/v1/vocal-removal/record-info`: `successFlag` string; `stems` maps the
    response's `…Url` keys without the suffix (`vocal`, `instrumental`, `drums`…) to URLs."""

    success_flag: str
    music_id: str
    create_time_ms: int | None
    complete_time_ms: int | None
    stem_type: str
    """separate_vocal or split_stem."""
    stems: dict[str, str]
    origin_data: list[Stem]

    @property
    def vocal_url(self) -> str:
        return self.stems.get("vocal", "")

    @property
    def instrumental_url(self) -> str:
        return self.stems.get("instrumental", "")

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> StemsRecord:
        response = _dict(data.get("response"))
        stems = _stem_urls(response)
        first = stems.get("vocal") or next(iter(stems.values()), "")
        return cls(
            **_flag_record_core(data, first),
            stem_type=_str(data.get("type")),
            stems=stems,
            origin_data=[
                Stem(
                    id=_str(o.get("id")),
                    name=_str(o.get("stem_type_group_name")),
                    audio_url=_pick(o, "audio_url", "audioUrl"),
                    duration=_float_or_none(o.get("duration")),
                )
                for o in map(_dict, _list(response.get("originData")))
            ],
        )


@dataclass(frozen=True, kw_only=True)
class MusicVideoRecord(TaskRecord):
    """`GET /api/v1/mp4/record-info`: `successFlag` string; `video_url` the MP4."""

    success_flag: str
    music_id: str
    create_time_ms: int | None
    complete_time_ms: int | None

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> MusicVideoRecord:
        url = _str(_dict(data.get("response")).get("videoUrl"))
        return cls(**_flag_record_core(data, url))


@dataclass(frozen=True, kw_only=True)
class MidiNote:
    pitch: int
    """The MIDI note number."""
    start: float
    end: float
    velocity: float


@dataclass(frozen=True, kw_only=True)
class MidiInstrument:
    name: str
    notes: list[MidiNote]


def _instrument(data: dict[str, Any]) -> MidiInstrument:
    # KIE's own example has `start`/`end` as strings in some notes and numbers in others.
    return MidiInstrument(
        name=_str(data.get("name")),
        notes=[
            MidiNote(
                pitch=_int_or_none(n.get("pitch")) or 0,
                start=_float_or_none(n.get("start")) or 0.0,
                end=_float_or_none(n.get("end")) or 0.0,
                velocity=_float_or_none(n.get("velocity")) or 0.0,
            )
            for n in map(_dict, _list(data.get("notes")))
        ],
    )


def _int_flag_state(flag: int | None, failed: int) -> str:
    return "success" if flag == 1 else "fail" if flag == failed else "generating"


@dataclass(frozen=True, kw_only=True)
class MidiRecord(TaskRecord):
    """`GET /api/v1/midi/record-info`: `successFlag` int 0 pending, 1 success, 2 failed;
    the notes are in the record (`instruments`), there is no file."""

    success_flag: int
    audio_id: str
    instruments: list[MidiInstrument]

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> MidiRecord:
        flag = _int_or_none(data.get("successFlag"))
        state = _int_flag_state(flag, 2)
        midi = _dict(data.get("midiData"))
        return cls(
            task_id=_str(data.get("taskId")),
            state=state,
            progress=1.0 if state == "success" else 0.0,
            video_url="",
            cover_url="",
            fail_code=_int_or_none(data.get("errorCode")) if state == "fail" else None,
            fail_msg=_str(data.get("errorMessage")) if state == "fail" else "",
            expired=False,
            raw=data,
            success_flag=flag or 0,
            audio_id=_str(data.get("audioId")),
            instruments=[_instrument(i) for i in map(_dict, _list(midi.get("instruments")))],
        )


@dataclass(frozen=True, kw_only=True)
class CoverRecord(TaskRecord):
    """`GET /api/v1/suno/cover/record-info`: `successFlag` int 0 pending, 1 success,
    **2 generating**, 3 failed; `images` the cover art (`video_url` the first)."""

    success_flag: int
    parent_task_id: str
    images: list[str]

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> CoverRecord:
        flag = _int_or_none(data.get("successFlag"))
        state = _int_flag_state(flag, 3)
        images = [str(u) for u in _list(_dict(data.get("response")).get("images")) if u]
        return cls(
            task_id=_str(data.get("taskId")),
            state=state,
            progress=1.0 if state == "success" else 0.0,
            video_url=images[0] if images else "",
            cover_url="",
            fail_code=_int_or_none(data.get("errorCode")) if state == "fail" else None,
            fail_msg=_str(data.get("errorMessage")) if state == "fail" else "",
            expired=False,
            raw=data,
            success_flag=flag or 0,
            parent_task_id=_str(data.get("parentTaskId")),
            images=images,
        )


@dataclass(frozen=True, kw_only=True)
class AlignedWord:
    word: str
    success: bool
    start_s: float
    end_s: float
    palign: int


@dataclass(frozen=True, kw_only=True)
class TimestampedLyrics:
    """`POST /api/v1/generate/get-timestamped-lyrics` (synchronous): when each word is sung."""

    aligned_words: list[AlignedWord]
    waveform: list[float]
    hoot_cer: float
    """The alignment's error rate (0 best)."""
    is_streamed: bool
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> TimestampedLyrics:
        return cls(
            aligned_words=[
                AlignedWord(
                    word=_str(w.get("word")),
                    success=bool(w.get("success")),
                    start_s=_float_or_none(w.get("startS")) or 0.0,
                    end_s=_float_or_none(w.get("endS")) or 0.0,
                    palign=_int_or_none(w.get("palign")) or 0,
                )
                for w in map(_dict, _list(data.get("alignedWords")))
            ],
            waveform=[
                v for v in map(_float_or_none, _list(data.get("waveformData"))) if v is not None
            ],
            hoot_cer=_float_or_none(data.get("hootCer")) or 0.0,
            is_streamed=bool(data.get("isStreamed")),
            raw=data,
        )


@dataclass(frozen=True, kw_only=True)
class Persona:
    """`POST /api/v1/generate/generate-persona` (synchronous): pass `persona_id` to later
    custom-mode songs."""

    persona_id: str
    name: str
    description: str

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Persona:
        return cls(
            persona_id=_str(data.get("personaId")),
            name=_str(data.get("name")),
            description=_str(data.get("description")),
        )


@dataclass(frozen=True, kw_only=True)
class BoostedStyle:
    """`POST /api/v1/style/generate` (synchronous): `result` is the fuller style line."""

    task_id: str
    param: str
    result: str
    credits_consumed: float
    credits_remaining: float
    success_flag: str
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> BoostedStyle:
        return cls(
            task_id=_str(data.get("taskId")),
            param=_str(data.get("param")),
            result=_str(data.get("result")),
            credits_consumed=_float_or_none(data.get("creditsConsumed")) or 0.0,
            credits_remaining=_float_or_none(data.get("creditsRemaining")) or 0.0,
            success_flag=_str(data.get("successFlag")),
            raw=data,
        )


def music_record(record: TaskRecord) -> MusicRecord:
    """`record` as the `MusicRecord` a song task's poll gives."""
    if not isinstance(record, MusicRecord):
        raise TypeError(f"not a song record: {type(record).__name__}")
    return record
