"""The request an upstream gets: the client's body, with what the upstream cannot read
replaced by copies it can, parents named by its own ids, and its callback pointed here.

- `reelserve-blob:<key>` (a data: URI the client sent, stored at submit) and this
  server's own `/files/` URLs (uploads, earlier results) are uploaded through the
  upstream's file API, unless the upstream can fetch this server's URLs
  (`share_urls`), which then go as they are;
- a parent task (`taskId` of an extend, a Suno `audioId`) is named by the id the
  same upstream gave it; a parent made anywhere else cannot be forwarded
  (`NotForwardable`: the route's next engine takes the task);
- `callBackUrl` becomes this server's signed per-task path when the upstream calls
  back (or the family needs one); `progressCallBackUrl` is dropped.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import mimetypes
from pathlib import Path
from typing import Any

from reelserve.blobs.base import BlobNotFound, BlobStore
from reelserve.blobs.signing import UrlSigner
from reelserve.families.suno.rules import parse_track_id
from reelserve.settings import Settings
from reelserve.store.handoffs import HandoffStore
from reelserve.tasks.models import Task
from reelserve.upstream.capture import BLOB_REF
from reelserve.upstream.engine import UpstreamEngine
from reelserve.upstream.wire import CALLBACK_REQUIRED, NotForwardable
from reelserve.worker.failures import GET_IMAGE_FAILED, TaskFailure

CALLBACK_PATH = "/api/v1/upstream/callback/"


def callback_signature(secret: bytes, task_id: str) -> str:
    return hmac.new(secret, f"upstream-callback:{task_id}".encode(), hashlib.sha256).hexdigest()[
        :32
    ]


def callback_url(settings: Settings, task_id: str) -> str:
    sig = callback_signature(settings.resolved_signing_secret(), task_id)
    return f"{settings.public_url.rstrip('/')}{CALLBACK_PATH}{task_id}?sig={sig}"


class Preparer:
    def __init__(
        self,
        task: Task,
        engine: UpstreamEngine,
        settings: Settings,
        blobs: BlobStore,
        handoffs: HandoffStore,
        tmp: Path,
    ) -> None:
        self.task = task
        self.engine = engine
        self.settings = settings
        self.blobs = blobs
        self.handoffs = handoffs
        self.tmp = tmp
        self.signer = UrlSigner(settings.resolved_signing_secret(), settings.public_url)
        self.uploaded: dict[str, str] = {}
        self._count = 0

    async def body(self) -> dict[str, Any]:
        wire = self.task.params.get("wire") or {}
        body = copy.deepcopy(dict(wire.get("body") or {}))
        body = dict(await self._files(body))
        await self._parents(body)
        body.pop("progressCallBackUrl", None)
        if self.engine.callbacks or self.task.dialect in CALLBACK_REQUIRED:
            body["callBackUrl"] = callback_url(self.settings, self.task.id)
        else:
            body.pop("callBackUrl", None)
        return body

    async def _files(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: await self._files(v) for k, v in value.items()}
        if isinstance(value, list):
            return [await self._files(v) for v in value]
        if isinstance(value, str):
            if value.startswith(BLOB_REF):
                return await self._upload(value.removeprefix(BLOB_REF))
            if self.signer.is_own(value) and not self.engine.share_urls:
                key = self.signer.verified_key(value)
                if key is None:
                    raise TaskFailure(
                        GET_IMAGE_FAILED, detail="invalid or expired signature on a /files/ URL"
                    )
                return await self._upload(key)
        return value

    async def _upload(self, key: str) -> str:
        if key in self.uploaded:
            return self.uploaded[key]
        self._count += 1
        name = key.rsplit("/", 1)[-1]
        path = self.tmp / f"upload-{self._count}"
        try:
            path.write_bytes(await self.blobs.get_bytes(key))
        except BlobNotFound:
            raise TaskFailure(GET_IMAGE_FAILED, detail="the file was deleted") from None
        mime = mimetypes.guess_type(name)[0] or _sniff(path)
        if "." not in name:
            name += mimetypes.guess_extension(mime) or ""
        url = await self.engine.client.upload(path, name, mime)
        self.uploaded[key] = url
        return url

    async def _parents(self, body: dict[str, Any]) -> None:
        """Our ids of the task's parent (and its tracks) -> the upstream's."""
        parent = self.task.parent_id
        if not parent:
            return
        mine = {h.engine: h for h in await self.handoffs.of_task(parent)}
        handoff = mine.get(self.engine.engine)
        if handoff is None or not handoff.accepted:
            raise NotForwardable(
                f"its parent task {parent} was not made by {self.engine.engine}, "
                "which cannot build on it"
            )
        upstream_parent = str(handoff.upstream_id)
        tracks = [str(t) for t in handoff.detail.get("tracks") or []]
        for holder in (body, body.get("input")):
            if not isinstance(holder, dict):
                continue
            for name in ("taskId", "task_id"):
                if holder.get(name) == parent:
                    holder[name] = upstream_parent
            audio = holder.get("audioId")
            if isinstance(audio, str) and audio:
                found = parse_track_id(audio)
                if found is None or found[0] != parent or found[1] >= len(tracks):
                    raise NotForwardable(f"track {audio} has no copy at {self.engine.engine}")
                holder["audioId"] = tracks[found[1]]


def _sniff(path: Path) -> str:
    head = path.read_bytes()[:16]
    if head.startswith(b"\x89PNG"):
        return "image/png"
    if head.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[4:8] == b"ftyp":
        return "video/mp4"
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio/mpeg"
    return "application/octet-stream"
