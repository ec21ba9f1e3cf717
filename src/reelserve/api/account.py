"""Account endpoints (spec §3): the credit balance and fresh direct media URLs."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from reelserve.api.body import LenientBody, openapi_body, parse_body
from reelserve.api.deps import current_key
from reelserve.api.envelope import ok
from reelserve.blobs.base import BlobStore
from reelserve.blobs.signing import UrlSigner
from reelserve.errors import NotFound, ValidationFailed

router = APIRouter(tags=["account"])

UNLIMITED = 2_147_483_647
"""The balance reported for a key without a limit: clients cast it to a 32-bit int."""
DOWNLOAD_URL_S = 20 * 60


class DownloadUrlBody(LenientBody):
    url: str


@router.get("/api/v1/chat/credit")
async def credit(request: Request) -> JSONResponse:
    """The key's remaining credits (2147483647 when unlimited)."""
    key = await current_key(request)
    balance = await request.app.state.store.keys.balance(key.id)
    return ok(request, UNLIMITED if balance is None else balance)


@router.post("/api/v1/common/download-url", openapi_extra=openapi_body(DownloadUrlBody))
async def download_url(request: Request) -> JSONResponse:
    """A fresh direct URL, valid 20 minutes, for a media URL this server issued."""
    await current_key(request)
    body = await parse_body(request, DownloadUrlBody)
    signer: UrlSigner = request.app.state.signer
    # A lapsed link still identifies the media: refreshing it is the point.
    key = signer.verified_key(body.url.strip(), allow_lapsed=True)
    if key is None:
        raise ValidationFailed("url", "must be a media URL issued by this server")
    blobs: BlobStore = request.app.state.blobs
    if not await blobs.exists(key):
        raise NotFound("The media behind this URL has expired and was deleted")
    return ok(request, signer.url(key, int(time.time()) + DOWNLOAD_URL_S))
