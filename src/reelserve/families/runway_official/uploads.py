"""Runway's ephemeral uploads, in the SDK's two steps.

1. `POST /v1/uploads {filename, type: "ephemeral"}` (with the key) answers an
   absolute `uploadUrl`, the form `fields` to send with the file, and the
   `runwayUri` that names it in later requests.
2. The SDK posts the file to `uploadUrl` as multipart with those fields and no
   key (S3's presigned-POST way). The fields carry a signature over the
   upload's id, key, name and expiry, so only that file can be sent, once
   (the upload row's id is the upload's: a second post is refused), within
   `URL_S` seconds.
The stored file lives as long as other uploads (`REELSERVE_UPLOAD_RETENTION_HOURS`).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from reelserve.blobs.base import BlobStore
from reelserve.blobs.signing import UrlSigner
from reelserve.errors import ReelserveError, Unauthorized, ValidationFailed
from reelserve.families.runway_official.checks import Checker
from reelserve.families.runway_official.sources import upload_uri
from reelserve.settings import Settings
from reelserve.store.keys import ApiKey
from reelserve.store.store import Store
from reelserve.store.uploads import Upload
from reelserve.uploads import rules
from reelserve.uploads.receive import Received

URL_S = 3600
"""How long an upload URL takes its file."""


class UploadUsed(ReelserveError):
    """This upload URL was used already: ask POST /v1/uploads for a new one"""

    code = 409


def _claim(upload_id: str, key_id: str, filename: str) -> str:
    return f"runway-upload\n{upload_id}\n{key_id}\n{filename}"


def start(
    settings: Settings, signer: UrlSigner, key: ApiKey, body: dict[str, Any]
) -> dict[str, Any]:
    """Step 1: where and how to send the file."""
    c = Checker(body)
    filename = c.text("filename", required=True, max_len=255)
    c.choice("type", ("ephemeral",))
    c.done()
    assert filename is not None
    name = rules.file_name(filename.replace("/", "_").replace("\\", "_"))
    if name is None:  # pragma: no cover - text() refused an empty name
        raise ValidationFailed("filename", "is required")
    upload_id = uuid.uuid4().hex
    expires = int(time.time()) + URL_S
    fields = {
        "uploader": key.id,
        "filename": name,
        "expires": str(expires),
        "signature": signer.signature(_claim(upload_id, key.id, name), expires),
    }
    return {
        "uploadUrl": f"{settings.public_url.rstrip('/')}/v1/uploads/{upload_id}",
        "fields": fields,
        "runwayUri": upload_uri(upload_id, name),
    }


async def receive(
    settings: Settings,
    store: Store,
    blobs: BlobStore,
    signer: UrlSigner,
    upload_id: str,
    fields: dict[str, str],
    received: Received | None,
) -> None:
    """Step 2: the file, stored once under the upload's id."""
    try:
        key_id, name = fields.get("uploader", ""), fields.get("filename", "")
        expires = fields.get("expires", "")
        signature = fields.get("signature", "")
        if not expires.isdigit() or not signer.verify(
            _claim(upload_id, key_id, name), int(expires), signature
        ):
            raise Unauthorized("This upload URL's fields are missing or altered")
        if UrlSigner.expired(int(expires)):
            raise Unauthorized("This upload URL has expired: ask POST /v1/uploads for a new one")
        if received is None or received.size == 0:
            raise ValidationFailed("file", "is required (a non-empty file part named file)")
        if received.size > settings.upload_max_bytes:
            raise ValidationFailed("file", f"must be at most {settings.upload_max_bytes} bytes")
        if await store.uploads.by_id(upload_id) is not None:
            raise UploadUsed()
        mime = rules.mime_type(received.head, name, received.declared_mime)
        # A key of its own per post: a racing second post never overwrites the first's file.
        blob_key = rules.blob_key(key_id, f"runway/{upload_id}/{uuid.uuid4().hex[:8]}", name)
        await blobs.put_file(blob_key, received.path, mime)
        now = time.time()
        upload = Upload(
            upload_id,
            key_id,
            blob_key,
            received.size,
            mime,
            now,
            now + settings.upload_retention_hours * 3600,
        )
        if not await store.uploads.record_once(upload):
            await blobs.delete(blob_key)
            raise UploadUsed()
    finally:
        if received is not None:
            received.discard()
