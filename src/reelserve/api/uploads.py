"""File uploads (spec §3): base64, multipart stream and URL, under /api and /api/v1."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from reelserve.api.body import LenientBody, openapi_body, parse_body, read_body
from reelserve.api.deps import current_key
from reelserve.api.envelope import FastJSONResponse, envelope
from reelserve.errors import ValidationFailed
from reelserve.uploads.receive import receive_multipart
from reelserve.uploads.service import UploadService

router = APIRouter(tags=["files"])

UPLOADED = "File uploaded successfully"
_JSON_SLACK = 64 * 1024
"""Room for the other fields of a base64 upload's JSON body."""


class Base64UploadBody(LenientBody):
    base64Data: str = Field(description="base64, or a data: URL")
    uploadPath: str = Field(description="folder, e.g. images/user-uploads")
    fileName: str | None = Field(None, description="kept as given; generated when absent")


class UrlUploadBody(LenientBody):
    fileUrl: str = Field(description="http(s) URL the server downloads (30 s)")
    uploadPath: str = Field(description="folder, e.g. images/user-uploads")
    fileName: str | None = None


STREAM_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "uploadPath"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "uploadPath": {"type": "string"},
                        "fileName": {"type": "string"},
                    },
                }
            }
        },
    }
}


def _service(request: Request) -> UploadService:
    service: UploadService = request.app.state.uploads
    return service


def _uploaded(request: Request, data: dict[str, Any]) -> JSONResponse:
    # `success` is part of KIE's upload answer (and only of it).
    return FastJSONResponse({"success": True, **envelope(200, UPLOADED, data)})


async def base64_upload(request: Request) -> JSONResponse:
    """Store a base64 payload (plain or data: URL); for small files."""
    key = await current_key(request)
    service = _service(request)
    service.admit()
    # Bounded by the upload limit (as base64, with room for the other fields), not the
    # JSON one; parse_body then reads this copy. The message names the file's limit.
    limit = service.max_bytes * 4 // 3 + _JSON_SLACK
    await read_body(
        request,
        limit,
        lambda: ValidationFailed(
            "base64Data", f"decodes to more than the upload limit of {service.max_bytes} bytes"
        ),
    )
    body = await parse_body(request, Base64UploadBody)
    data = await service.from_base64(key, body.base64Data, body.uploadPath, body.fileName)
    return _uploaded(request, data)


async def stream_upload(request: Request) -> JSONResponse:
    """Store a multipart `file`, streamed to disk and capped as it arrives."""
    key = await current_key(request)
    service = _service(request)
    service.admit()
    fields, received = await receive_multipart(request, service.tmp_dir, service.max_bytes)
    if received is None:
        raise ValidationFailed("file", "is required")
    data = await service.from_file(
        key, received, fields.get("uploadPath"), fields.get("fileName") or None
    )
    return _uploaded(request, data)


async def url_upload(request: Request) -> JSONResponse:
    """Download `fileUrl` (30 s) and store it."""
    key = await current_key(request)
    service = _service(request)
    service.admit()
    body = await parse_body(request, UrlUploadBody)
    data = await service.from_url(key, body.fileUrl, body.uploadPath, body.fileName)
    return _uploaded(request, data)


for _prefix in ("/api", "/api/v1"):
    router.add_api_route(
        f"{_prefix}/file-base64-upload",
        base64_upload,
        methods=["POST"],
        openapi_extra=openapi_body(Base64UploadBody),
    )
    router.add_api_route(
        f"{_prefix}/file-stream-upload", stream_upload, methods=["POST"], openapi_extra=STREAM_BODY
    )
    router.add_api_route(
        f"{_prefix}/file-url-upload",
        url_upload,
        methods=["POST"],
        openapi_extra=openapi_body(UrlUploadBody),
    )
