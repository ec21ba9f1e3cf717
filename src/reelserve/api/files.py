"""Serves stored media behind signed URLs, with HTTP Range support (browsers seek).

With S3 the route checks the signature as always, then redirects (307) to a
fresh presigned URL of the object: the bytes come from S3, which answers Range
itself, and the link handed out keeps its retention-long life although S3
caps presigning at 7 days.
"""

from __future__ import annotations

import mimetypes
import time

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response

from reelserve.api.envelope import envelope
from reelserve.blobs.base import BlobNotFound, BlobStore, BlobUnavailable
from reelserve.blobs.keys import InvalidBlobKey, check_key
from reelserve.blobs.local import LocalBlobStore
from reelserve.blobs.signing import UrlSigner
from reelserve.settings import Settings

router = APIRouter(tags=["files"])


def _refuse(status: int, msg: str, headers: dict[str, str] | None = None) -> JSONResponse:
    # Real HTTP statuses here whatever `http_status` says: players and browsers read them.
    return JSONResponse(envelope(status, msg), status_code=status, headers=headers)


@router.api_route("/files/{key:path}", methods=["GET", "HEAD"], include_in_schema=False)
async def serve_file(request: Request, key: str, expires: str = "", sig: str = "") -> Response:
    signer: UrlSigner = request.app.state.signer
    blobs: BlobStore = request.app.state.blobs
    try:
        check_key(key)
        expiry = int(expires)
    except (InvalidBlobKey, ValueError):
        return _refuse(403, "Invalid or missing signature")
    if not sig or not signer.verify(key, expiry, sig):
        return _refuse(403, "Invalid or missing signature")
    # Deleted media answers 410 even once the link has lapsed: it tells the
    # client the content is gone for good, not that it needs a fresh link.
    try:
        if not await blobs.exists(key):
            return _refuse(410, "This media has expired and was deleted")
        if signer.expired(expiry):
            return _refuse(403, "This link has expired")
        settings: Settings = request.app.state.settings
        # Never valid past the link it stands for.
        ttl = min(settings.s3_presign_s, max(1, expiry - int(time.time())))
        direct = await blobs.direct_url(key, request.method, ttl)
    except BlobUnavailable as exc:
        blobs.health.refused()
        return _refuse(
            503, "Media storage is unavailable, please try again later", dict(exc.headers)
        )
    if direct is not None:
        return RedirectResponse(direct, status_code=307, headers={"Cache-Control": "no-store"})
    media_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
    if isinstance(blobs, LocalBlobStore):
        headers = {"Cache-Control": "private, max-age=3600"}
        return FileResponse(blobs.path_for(key), media_type=media_type, headers=headers)
    try:
        data = await blobs.get_bytes(key)
    except BlobNotFound:
        return _refuse(410, "This media has expired and was deleted")
    return Response(data, media_type=media_type)
