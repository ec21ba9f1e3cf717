"""Asset inputs of `/v1` bodies: URLs, data: URIs and `runway://` uploads, checked then stored.

Everything is checked before anything is stored, so a refused request leaves
no input blobs behind. A `runway://` URI names an upload of the same key
(`uploads.py`); it is read from the blob store like a data: URI would be.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from reelserve.errors import ValidationFailed
from reelserve.families.common import IMAGE_ACCEPT
from reelserve.store.keys import ApiKey
from reelserve.tasks.rules import DataUri, parse_image_source, parse_video_source
from reelserve.tasks.service import TaskService

UPLOAD_SCHEME = "runway://uploads/"
VIDEO_ACCEPT = ["video/mp4", "video/quicktime", "video/webm"]


@dataclass(frozen=True)
class Asset:
    """One input: the request path that named it, what it is to the task, and its value."""

    path: str
    kind: str
    """image or video."""
    role: str
    value: str


def upload_uri(upload_id: str, filename: str) -> str:
    return f"{UPLOAD_SCHEME}{upload_id}/{filename}"


async def _upload(service: TaskService, key: ApiKey, asset: Asset) -> dict[str, Any]:
    upload_id = asset.value.removeprefix(UPLOAD_SCHEME).split("/", 1)[0]
    upload = await service.store.uploads.by_id(upload_id) if upload_id else None
    if upload is None or upload.api_key_id != key.id or upload.expires_at <= time.time():
        raise ValidationFailed(
            asset.path, "names no upload of this API key (it may have expired): upload it again"
        )
    return {"blob": upload.blob_key, "mime": upload.mime}


async def stored_assets(
    service: TaskService, key: ApiKey, task_id: str, assets: list[Asset], inputs: dict[str, str]
) -> list[dict[str, Any]]:
    """The sources as the worker reads them (`worker/inputs.py`); data: URIs stored now."""
    limit = service.settings.source_max_bytes
    checked: list[tuple[Asset, str | DataUri | dict[str, Any]]] = []
    for asset in assets:
        if asset.value.startswith("runway://"):
            if not asset.value.startswith(UPLOAD_SCHEME):
                raise ValidationFailed(asset.path, "must be a runway:// URI from POST /v1/uploads")
            checked.append((asset, await _upload(service, key, asset)))
            continue
        parse = parse_image_source if asset.kind == "image" else parse_video_source
        parsed = parse(asset.path, asset.value, limit)
        service.check_source(asset.path, parsed)
        checked.append((asset, parsed))
    sources: list[dict[str, Any]] = []
    for number, (asset, value) in enumerate(checked):
        if isinstance(value, dict):
            stored: dict[str, Any] | None = value
        else:
            stored = await service.store_input(
                task_id, asset.path, f"{asset.role}-{number}", value, inputs
            )
        assert stored is not None
        field, _, index = asset.path.partition(".")
        sources.append(
            {
                "field": field,
                "index": int(index.split(".")[0]) if index[:1].isdigit() else None,
                "kind": asset.kind,
                "role": asset.role,
                "accept": IMAGE_ACCEPT if asset.kind == "image" else VIDEO_ACCEPT,
                "max_bytes": 0,
                **stored,
            }
        )
    return sources
