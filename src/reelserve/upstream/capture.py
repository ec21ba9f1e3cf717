"""The request a task was created from: kept for forwarding it to an upstream, and its
`Idempotency-Key` for an idempotent create (tasks/service.py).

The family routes read their JSON body through `api/body.json_object`, which
notes it with its path here (a context variable: one per request). When a
task's route names an upstream engine (first or as a fallback), the service
stores that body in `params.wire` — data: URIs in it moved to input blobs and
named by `reelserve-blob:<key>`, so a row never holds megabytes of base64 —
and the upstream engine sends it on as the client sent it (upstream/follow.py).
"""

from __future__ import annotations

import copy
import hashlib
import json
import mimetypes
from contextvars import ContextVar
from typing import Any

from reelserve.blobs.base import BlobStore
from reelserve.tasks.rules import parse_data_uri
from reelserve.upstream.config import PREFIX

BLOB_REF = "reelserve-blob:"

_SENT: ContextVar[tuple[str, dict[str, Any]] | None] = ContextVar("reelserve_sent", default=None)
_IDEMPOTENCY: ContextVar[str | None] = ContextVar("reelserve_idempotency", default=None)


def note_request(path: str, body: dict[str, Any], idempotency_key: str | None = None) -> None:
    _SENT.set((path, body))
    _IDEMPOTENCY.set(idempotency_key)


def idempotency() -> tuple[str, str] | None:
    """(the request's `Idempotency-Key`, a hash of its path and body), when it sent one."""
    key = _IDEMPOTENCY.get()
    sent = _SENT.get()
    if key is None or sent is None:
        return None
    path, body = sent
    canonical = json.dumps([path, body], sort_keys=True, separators=(",", ":"), default=str)
    return key, hashlib.sha256(canonical.encode()).hexdigest()


def forwards(engines: list[str] | tuple[str, ...]) -> bool:
    return any(name.startswith(PREFIX) for name in engines)


async def wire_params(task_id: str, blobs: BlobStore, max_bytes: int) -> dict[str, Any] | None:
    """`params.wire` of a task made by this request: `{path, body}`; None outside a request."""
    sent = _SENT.get()
    if sent is None:
        return None
    path, body = sent
    stored = 0

    async def keep(value: Any) -> Any:
        nonlocal stored
        if isinstance(value, dict):
            return {k: await keep(v) for k, v in value.items()}
        if isinstance(value, list):
            return [await keep(v) for v in value]
        if isinstance(value, str) and value[:5].lower() == "data:":
            data = parse_data_uri("body", value, max_bytes)
            stored += 1
            extension = mimetypes.guess_extension(data.mime or "") or ".bin"
            key = f"inputs/{task_id}/wire-{stored}{extension}"
            await blobs.put_bytes(key, data.data, data.mime or "application/octet-stream")
            return BLOB_REF + key
        return value

    return {"path": path, "body": await keep(copy.deepcopy(body))}
