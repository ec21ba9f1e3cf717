"""The API's calls (spec §1-§3, §6) as `Call`s: field names exactly as the wire wants them."""

from __future__ import annotations

import base64
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
    UploadedFile,
    VeoRecord,
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
