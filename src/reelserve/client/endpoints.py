"""The API's calls (spec §1-§3, §6) as `Call`s: field names exactly as the wire wants them."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reelserve.client.calls import Call
from reelserve.client.models import (
    AlephRecord,
    CallbackDelivery,
    FluxKontextRecord,
    Gpt4oRecord,
    MarketModel,
    MarketRecord,
    RunwayRecord,
    TaskRecord,
    UploadedFile,
    VeoRecord,
)
from reelserve.client.suno_models import (
    BoostedStyle,
    CoverRecord,
    LyricsRecord,
    MidiRecord,
    MusicRecord,
    MusicVideoRecord,
    Persona,
    StemsRecord,
    TimestampedLyrics,
    WavRecord,
)

DEFAULT_UPLOAD_PATH = "reelserve-sdk"
BASE64_MAX_BYTES = 1024 * 1024
"""Bytes up to this size go as base64 JSON (one small request); larger ones stream."""


def _task_id(data: Any) -> str:
    task_id = (data or {}).get("taskId") if isinstance(data, dict) else None
    if not task_id:
        raise ValueError(f"the answer carries no taskId: {data!r}")
    return str(task_id)


def _body(**fields: Any) -> dict[str, Any]:
    """A request body without the optional fields left as None."""
    return {k: v for k, v in fields.items() if v is not None}


def runway_generate(
    *,
    prompt: str,
    duration: int,
    quality: str,
    aspect_ratio: str | None,
    image_url: str | None,
    watermark: str | None,
    callback_url: str | None,
) -> Call[str]:
    body = _body(
        prompt=prompt,
        duration=duration,
        quality=quality,
        aspectRatio=aspect_ratio,
        imageUrl=image_url,
        waterMark=watermark,
        callBackUrl=callback_url,
    )
    return Call("POST", "/api/v1/runway/generate", _task_id, json=body)


def runway_extend(
    *,
    task_id: str,
    prompt: str,
    quality: str,
    watermark: str | None,
    callback_url: str | None,
) -> Call[str]:
    body = _body(
        taskId=task_id,
        prompt=prompt,
        quality=quality,
        waterMark=watermark,
        callBackUrl=callback_url,
    )
    return Call("POST", "/api/v1/runway/extend", _task_id, json=body)


def runway_get(task_id: str) -> Call[RunwayRecord]:
    return Call(
        "GET",
        "/api/v1/runway/record-detail",
        lambda d: RunwayRecord.from_data(d),
        params={"taskId": task_id},
        safe_to_repeat=True,
    )


def aleph_generate(
    *,
    prompt: str,
    video_url: str,
    aspect_ratio: str | None,
    seed: int | None,
    reference_image: str | None,
    watermark: str | None,
    callback_url: str | None,
) -> Call[str]:
    body = _body(
        prompt=prompt,
        videoUrl=video_url,
        aspectRatio=aspect_ratio,
        seed=seed,
        referenceImage=reference_image,
        waterMark=watermark,
        callBackUrl=callback_url,
    )
    return Call("POST", "/api/v1/aleph/generate", _task_id, json=body)


def aleph_get(task_id: str) -> Call[AlephRecord]:
    return Call(
        "GET",
        "/api/v1/aleph/record-info",
        lambda d: AlephRecord.from_data(d),
        params={"taskId": task_id},
        safe_to_repeat=True,
    )


def jobs_create(model: str, input: dict[str, Any], callback_url: str | None) -> Call[str]:
    body = _body(model=model, input=input, callBackUrl=callback_url)
    return Call("POST", "/api/v1/jobs/createTask", _task_id, json=body)


def jobs_get(task_id: str) -> Call[MarketRecord]:
    return Call(
        "GET",
        "/api/v1/jobs/recordInfo",
        lambda d: MarketRecord.from_data(d),
        params={"taskId": task_id},
        safe_to_repeat=True,
    )


def jobs_models() -> Call[list[MarketModel]]:
    return Call(
        "GET",
        "/api/v1/jobs/models",
        lambda d: [MarketModel.from_data(m) for m in d or []],
        safe_to_repeat=True,
    )


def credits() -> Call[int]:
    return Call("GET", "/api/v1/chat/credit", lambda d: int(d), safe_to_repeat=True)


def download_url(url: str) -> Call[str]:
    # Asking for a fresh URL twice gives two fresh URLs: harmless to repeat.
    return Call(
        "POST",
        "/api/v1/common/download-url",
        lambda d: str(d),
        json={"url": url},
        safe_to_repeat=True,
    )


def callbacks_list(task_id: str) -> Call[list[CallbackDelivery]]:
    return Call(
        "GET",
        "/api/v1/callbacks",
        lambda d: [CallbackDelivery.from_data(x) for x in d or []],
        params={"taskId": task_id},
        safe_to_repeat=True,
    )


def callbacks_redeliver(task_id: str) -> Call[str]:
    return Call(
        "POST",
        "/api/v1/callbacks/redeliver",
        lambda d: str((d or {}).get("deliveryId", "")),
        json={"taskId": task_id},
    )


def _uploaded(data: Any) -> UploadedFile:
    return UploadedFile.from_data(data or {})


def is_url(source: object) -> bool:
    return isinstance(source, str) and source.startswith(("http://", "https://"))


def upload(
    source: str | Path | bytes, upload_path: str, file_name: str | None
) -> tuple[Call[UploadedFile], Path | None]:
    """The upload call for a source, and the local file it streams (opened by the caller).

    An http(s) URL → `file-url-upload` (the server fetches it); a `data:` URI or
    bytes up to 1 MiB → `file-base64-upload`; a path or larger bytes →
    `file-stream-upload` (multipart, not held in memory for a path).
    """
    if isinstance(source, str) and is_url(source):
        body = _body(fileUrl=source, uploadPath=upload_path, fileName=file_name)
        return Call("POST", "/api/file-url-upload", _uploaded, json=body, host="upload"), None
    if isinstance(source, str) and source.startswith("data:"):
        body = _body(base64Data=source, uploadPath=upload_path, fileName=file_name)
        return Call("POST", "/api/file-base64-upload", _uploaded, json=body, host="upload"), None
    if isinstance(source, bytes | bytearray) and len(source) <= BASE64_MAX_BYTES:
        body = _body(
            base64Data=base64.b64encode(source).decode(), uploadPath=upload_path, fileName=file_name
        )
        return Call("POST", "/api/file-base64-upload", _uploaded, json=body, host="upload"), None
    fields = _body(uploadPath=upload_path, fileName=file_name)
    if isinstance(source, bytes | bytearray):
        files = {"file": (file_name or "upload", bytes(source))}
        call = Call(
            "POST", "/api/file-stream-upload", _uploaded, data=fields, files=files, host="upload"
        )
        return call, None
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"no such file to upload: {path}")
    call = Call("POST", "/api/file-stream-upload", _uploaded, data=fields, host="upload")
    return call, path


FAMILY_PATHS = {
    "veo": "/api/v1/veo",
    "gpt4o": "/api/v1/gpt4o-image",
    "flux": "/api/v1/flux/kontext",
}
"""KIE's own generation families (kie-families.md §3–§5): their path prefixes."""


def family_create(family: str, action: str, body: dict[str, Any]) -> Call[str]:
    """POST `<family>/<action>` (generate, extend) with a wire-named body -> the task id."""
    return Call("POST", f"{FAMILY_PATHS[family]}/{action}", _task_id, json=_body(**body))


def veo_get(task_id: str) -> Call[VeoRecord]:
    return Call(
        "GET",
        "/api/v1/veo/record-info",
        lambda d: VeoRecord.from_data(d),
        params={"taskId": task_id},
        safe_to_repeat=True,
    )


def gpt4o_get(task_id: str) -> Call[Gpt4oRecord]:
    return Call(
        "GET",
        "/api/v1/gpt4o-image/record-info",
        lambda d: Gpt4oRecord.from_data(d),
        params={"taskId": task_id},
        safe_to_repeat=True,
    )


def flux_get(task_id: str) -> Call[FluxKontextRecord]:
    return Call(
        "GET",
        "/api/v1/flux/kontext/record-info",
        lambda d: FluxKontextRecord.from_data(d),
        params={"taskId": task_id},
        safe_to_repeat=True,
    )


# -- Suno (kie-families.md §6, notes §4) ------------------------------------------------------

SUNO_RECORDS: dict[str, tuple[str, Callable[[dict[str, Any]], TaskRecord]]] = {
    "suno": ("/api/v1/generate/record-info", MusicRecord.from_data),
    "suno_lyrics": ("/api/v1/lyrics/record-info", LyricsRecord.from_data),
    "suno_wav": ("/api/v1/wav/record-info", WavRecord.from_data),
    "suno_stems": ("/api/v1/vocal-removal/record-info", StemsRecord.from_data),
    "suno_midi": ("/api/v1/midi/record-info", MidiRecord.from_data),
    "suno_mp4": ("/api/v1/mp4/record-info", MusicVideoRecord.from_data),
    "suno_cover": ("/api/v1/suno/cover/record-info", CoverRecord.from_data),
}
"""Each Suno task kind's record-info path and record model."""


def suno_create(path: str, body: dict[str, Any]) -> Call[str]:
    """POST a Suno task (`/api/v1` + `path`) with a wire-named body -> the task id.
    Optional fields left as None are not sent; `callBackUrl` only when given."""
    return Call("POST", f"/api/v1{path}", _task_id, json=_body(**body))


def suno_get(kind: str, task_id: str) -> Call[TaskRecord]:
    path, parse = SUNO_RECORDS[kind]
    return Call(
        "GET",
        path,
        lambda d: parse(d or {}),
        params={"taskId": task_id},
        safe_to_repeat=True,
    )


def suno_tuning(
    *,
    negative_tags: str | None,
    vocal_gender: str | None,
    style_weight: float | None,
    weirdness_constraint: float | None,
    audio_weight: float | None,
) -> dict[str, Any]:
    """The optional steering fields the song endpoints share, wire-named."""
    return {
        "negativeTags": negative_tags,
        "vocalGender": vocal_gender,
        "styleWeight": style_weight,
        "weirdnessConstraint": weirdness_constraint,
        "audioWeight": audio_weight,
    }


def suno_timestamped_lyrics(task_id: str, audio_id: str) -> Call[TimestampedLyrics]:
    return Call(
        "POST",
        "/api/v1/generate/get-timestamped-lyrics",
        lambda d: TimestampedLyrics.from_data(d or {}),
        json={"taskId": task_id, "audioId": audio_id},
        safe_to_repeat=True,  # a read: asking twice answers the same
    )


def suno_persona(task_id: str, audio_id: str, name: str, description: str) -> Call[Persona]:
    body = {"taskId": task_id, "audioId": audio_id, "name": name, "description": description}
    return Call(
        "POST",
        "/api/v1/generate/generate-persona",
        lambda d: Persona.from_data(d or {}),
        json=body,
    )


def suno_boost_style(content: str) -> Call[BoostedStyle]:
    return Call(
        "POST",
        "/api/v1/style/generate",
        lambda d: BoostedStyle.from_data(d or {}),
        json={"content": content},
    )


# Suno's task endpoints as `Call`s. `client.suno` and the async twin bind these functions
# (so each signature and docstring is written once). `callback_url` is sent only when given;
# KIE requires `callBackUrl` on most of these, and reelserve refuses its absence the same way
# (422 naming callBackUrl), so pass one there; the SDK never invents a placeholder.


def suno_generate(
    prompt: str = "",
    *,
    style: str | None = None,
    title: str | None = None,
    custom_mode: bool = False,
    instrumental: bool = False,
    model: str = "V4_5",
    callback_url: str | None = None,
    negative_tags: str | None = None,
    vocal_gender: str | None = None,
    style_weight: float | None = None,
    weirdness_constraint: float | None = None,
    audio_weight: float | None = None,
    persona_id: str | None = None,
) -> Call[str]:
    """Two songs (`POST /api/v1/generate`). Without `custom_mode`, `prompt` is the idea
    (≤ 500 characters) and the lyrics are written for it; in custom mode `prompt` is the
    lyrics sung verbatim (empty with `instrumental`) and `style` and `title` are required."""
    return suno_create(
        "/generate",
        {
            "prompt": prompt,
            "style": style,
            "title": title,
            "customMode": custom_mode,
            "instrumental": instrumental,
            "model": model,
            "callBackUrl": callback_url,
            "personaId": persona_id,
            **suno_tuning(
                negative_tags=negative_tags,
                vocal_gender=vocal_gender,
                style_weight=style_weight,
                weirdness_constraint=weirdness_constraint,
                audio_weight=audio_weight,
            ),
        },
    )


def _own_params(flag: bool | None, *given: object) -> bool:
    """`defaultParamFlag`: as asked, else true when the caller gave custom fields."""
    return flag if flag is not None else any(v is not None for v in given)


def suno_extend(
    audio_id: str,
    *,
    prompt: str = "",
    continue_at: float | None = None,
    style: str | None = None,
    title: str | None = None,
    model: str = "V4_5",
    default_param_flag: bool | None = None,
    callback_url: str | None = None,
    negative_tags: str | None = None,
    vocal_gender: str | None = None,
    style_weight: float | None = None,
    weirdness_constraint: float | None = None,
    audio_weight: float | None = None,
    persona_id: str | None = None,
) -> Call[str]:
    """A track continued from `continue_at` seconds (`POST /api/v1/generate/extend`);
    `model` must be the source track's. `default_param_flag` (default: true when `style`
    or `title` is given) makes the extension use its own `prompt` (lyrics), `style`,
    `title` and `continue_at`; false inherits them from the source."""
    return suno_create(
        "/generate/extend",
        {
            "audioId": audio_id,
            "defaultParamFlag": _own_params(default_param_flag, style, title),
            "prompt": prompt,
            "continueAt": continue_at,
            "style": style,
            "title": title,
            "model": model,
            "callBackUrl": callback_url,
            "personaId": persona_id,
            **suno_tuning(
                negative_tags=negative_tags,
                vocal_gender=vocal_gender,
                style_weight=style_weight,
                weirdness_constraint=weirdness_constraint,
                audio_weight=audio_weight,
            ),
        },
    )


def suno_upload_cover(
    upload_url: str,
    prompt: str = "",
    *,
    style: str | None = None,
    title: str | None = None,
    custom_mode: bool = False,
    instrumental: bool = False,
    model: str = "V4_5",
    callback_url: str | None = None,
    negative_tags: str | None = None,
    vocal_gender: str | None = None,
    style_weight: float | None = None,
    weirdness_constraint: float | None = None,
    audio_weight: float | None = None,
    persona_id: str | None = None,
) -> Call[str]:
    """An uploaded track (`upload_url`, e.g. `client.files.upload(...).download_url`)
    restyled (`POST /api/v1/generate/upload-cover`); the mode rules are generate's."""
    return suno_create(
        "/generate/upload-cover",
        {
            "uploadUrl": upload_url,
            "prompt": prompt,
            "style": style,
            "title": title,
            "customMode": custom_mode,
            "instrumental": instrumental,
            "model": model,
            "callBackUrl": callback_url,
            "personaId": persona_id,
            **suno_tuning(
                negative_tags=negative_tags,
                vocal_gender=vocal_gender,
                style_weight=style_weight,
                weirdness_constraint=weirdness_constraint,
                audio_weight=audio_weight,
            ),
        },
    )


def suno_upload_extend(
    upload_url: str,
    *,
    continue_at: float,
    prompt: str = "",
    style: str | None = None,
    title: str | None = None,
    instrumental: bool = False,
    model: str = "V4_5",
    default_param_flag: bool | None = None,
    callback_url: str | None = None,
    negative_tags: str | None = None,
    vocal_gender: str | None = None,
    style_weight: float | None = None,
    weirdness_constraint: float | None = None,
    audio_weight: float | None = None,
    persona_id: str | None = None,
) -> Call[str]:
    """An uploaded track continued from `continue_at` seconds
    (`POST /api/v1/generate/upload-extend`); `default_param_flag` as in `extend`."""
    return suno_create(
        "/generate/upload-extend",
        {
            "uploadUrl": upload_url,
            "defaultParamFlag": _own_params(default_param_flag, style, title),
            "continueAt": continue_at,
            "prompt": prompt,
            "style": style,
            "title": title,
            "instrumental": instrumental,
            "model": model,
            "callBackUrl": callback_url,
            "personaId": persona_id,
            **suno_tuning(
                negative_tags=negative_tags,
                vocal_gender=vocal_gender,
                style_weight=style_weight,
                weirdness_constraint=weirdness_constraint,
                audio_weight=audio_weight,
            ),
        },
    )


def suno_add_vocals(
    upload_url: str,
    prompt: str,
    *,
    style: str,
    title: str,
    negative_tags: str = "",
    model: str = "V4_5PLUS",
    callback_url: str | None = None,
    vocal_gender: str | None = None,
    style_weight: float | None = None,
    weirdness_constraint: float | None = None,
    audio_weight: float | None = None,
) -> Call[str]:
    """A voice singing `prompt` (lyrics) over an uploaded instrumental
    (`POST /api/v1/generate/add-vocals`; model V4_5PLUS, V5 or V5_5)."""
    return suno_create(
        "/generate/add-vocals",
        {
            "uploadUrl": upload_url,
            "prompt": prompt,
            "style": style,
            "title": title,
            "model": model,
            "callBackUrl": callback_url,
            **suno_tuning(
                negative_tags=negative_tags,
                vocal_gender=vocal_gender,
                style_weight=style_weight,
                weirdness_constraint=weirdness_constraint,
                audio_weight=audio_weight,
            ),
        },
    )


def suno_add_instrumental(
    upload_url: str,
    *,
    tags: str,
    title: str,
    negative_tags: str = "",
    model: str = "V4_5PLUS",
    callback_url: str | None = None,
    vocal_gender: str | None = None,
    style_weight: float | None = None,
    weirdness_constraint: float | None = None,
    audio_weight: float | None = None,
) -> Call[str]:
    """An accompaniment under an uploaded vocal (`POST /api/v1/generate/add-instrumental`);
    the style goes in `tags` here, as KIE names it."""
    return suno_create(
        "/generate/add-instrumental",
        {
            "uploadUrl": upload_url,
            "tags": tags,
            "title": title,
            "model": model,
            "callBackUrl": callback_url,
            **suno_tuning(
                negative_tags=negative_tags,
                vocal_gender=vocal_gender,
                style_weight=style_weight,
                weirdness_constraint=weirdness_constraint,
                audio_weight=audio_weight,
            ),
        },
    )


def suno_replace_section(
    task_id: str,
    audio_id: str,
    *,
    prompt: str,
    tags: str,
    title: str,
    infill_start_s: float,
    infill_end_s: float,
    full_lyrics: str,
    negative_tags: str | None = None,
    callback_url: str | None = None,
) -> Call[str]:
    """Seconds `infill_start_s`..`infill_end_s` of a track made again with `prompt` as their
    lyrics (`POST /api/v1/generate/replace-section`; 6–60 s, at most half the track)."""
    return suno_create(
        "/generate/replace-section",
        {
            "taskId": task_id,
            "audioId": audio_id,
            "prompt": prompt,
            "tags": tags,
            "title": title,
            "infillStartS": infill_start_s,
            "infillEndS": infill_end_s,
            "fullLyrics": full_lyrics,
            "negativeTags": negative_tags,
            "callBackUrl": callback_url,
        },
    )


def suno_mashup(
    upload_urls: list[str],
    *,
    style: str,
    title: str,
    prompt: str | None = None,
    custom_mode: bool = True,
    instrumental: bool | None = None,
    model: str = "V4_5",
    callback_url: str | None = None,
    vocal_gender: str | None = None,
    style_weight: float | None = None,
    weirdness_constraint: float | None = None,
    audio_weight: float | None = None,
) -> Call[str]:
    """Uploaded tracks blended into one song (`POST /api/v1/generate/mashup`)."""
    return suno_create(
        "/generate/mashup",
        {
            "uploadUrlList": list(upload_urls),
            "style": style,
            "title": title,
            "prompt": prompt,
            "customMode": custom_mode,
            "instrumental": instrumental,
            "model": model,
            "callBackUrl": callback_url,
            "vocalGender": vocal_gender,
            "styleWeight": style_weight,
            "weirdnessConstraint": weirdness_constraint,
            "audioWeight": audio_weight,
        },
    )


def suno_sounds(
    prompt: str,
    *,
    model: str = "V5",
    loop: bool | None = None,
    tempo: int | None = None,
    key: str | None = None,
    grab_lyrics: bool | None = None,
    callback_url: str | None = None,
) -> Call[str]:
    """A sound or loop (`POST /api/v1/generate/sounds`; model V5 or V5_5): `tempo` in BPM,
    `key` such as `Am` or `C#`; read like a song (two tracks)."""
    return suno_create(
        "/generate/sounds",
        {
            "prompt": prompt,
            "model": model,
            "soundLoop": loop,
            "soundTempo": tempo,
            "soundKey": key,
            "grabLyrics": grab_lyrics,
            "callBackUrl": callback_url,
        },
    )


def suno_lyrics(prompt: str, *, callback_url: str | None = None) -> Call[str]:
    """Two lyric sheets from a prompt (`POST /api/v1/lyrics`); no audio."""
    return suno_create("/lyrics", {"prompt": prompt, "callBackUrl": callback_url})


def suno_wav(task_id: str, audio_id: str, *, callback_url: str | None = None) -> Call[str]:
    """A track of a song task as WAV (`POST /api/v1/wav/generate`)."""
    body = {"taskId": task_id, "audioId": audio_id, "callBackUrl": callback_url}
    return suno_create("/wav/generate", body)


def suno_stems(
    task_id: str,
    audio_id: str,
    type: str = "separate_vocal",
    *,
    callback_url: str | None = None,
) -> Call[str]:
    """A track's stems (`POST /api/v1/vocal-removal/generate`): `separate_vocal` (vocal and
    instrumental) or `split_stem` (up to 12 instruments)."""
    body = {"taskId": task_id, "audioId": audio_id, "type": type, "callBackUrl": callback_url}
    return suno_create("/vocal-removal/generate", body)


def suno_midi(
    task_id: str, audio_id: str | None = None, *, callback_url: str | None = None
) -> Call[str]:
    """The notes of a finished stems task (`POST /api/v1/midi/generate`): of one stem
    (`audio_id`, an `origin_data[].id` of the stems record) or of all."""
    body = {"taskId": task_id, "audioId": audio_id, "callBackUrl": callback_url}
    return suno_create("/midi/generate", body)


def suno_music_video(
    task_id: str,
    audio_id: str,
    *,
    author: str | None = None,
    domain_name: str | None = None,
    callback_url: str | None = None,
) -> Call[str]:
    """An MP4 of a track with its cover (`POST /api/v1/mp4/generate`); `author` and
    `domain_name` (≤ 50 characters) are drawn on it."""
    body = {
        "taskId": task_id,
        "audioId": audio_id,
        "author": author,
        "domainName": domain_name,
        "callBackUrl": callback_url,
    }
    return suno_create("/mp4/generate", body)


def suno_cover(task_id: str, *, callback_url: str | None = None) -> Call[str]:
    """Cover art for a song task (`POST /api/v1/suno/cover/generate`; one per song task)."""
    return suno_create("/suno/cover/generate", {"taskId": task_id, "callBackUrl": callback_url})
