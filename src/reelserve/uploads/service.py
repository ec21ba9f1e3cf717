"""The upload service: admits an upload, stores it under the key's namespace, records it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from typing import Any

from reelserve.api.timefmt import iso_time
from reelserve.blobs.base import BlobStore
from reelserve.blobs.signing import UrlSigner
from reelserve.errors import FeatureDisabled, Maintenance, ValidationFailed
from reelserve.security.urlguard import BlockedUrl, check_url
from reelserve.settings import Settings
from reelserve.store.keys import ApiKey
from reelserve.store.store import Store
from reelserve.store.uploads import Upload
from reelserve.tasks.rules import check_http_url
from reelserve.uploads import rules
from reelserve.uploads.receive import Received, download

FEATURE = "uploads"


class UploadService:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        blobs: BlobStore,
        signer: UrlSigner,
        exempt: Iterable[tuple[str, int]] = (),
    ) -> None:
        self._settings = settings
        self._store = store
        self._blobs = blobs
        self._signer = signer
        self._exempt = tuple(exempt)
        self.tmp_dir = settings.data_dir / "tmp" / "uploads"

    @property
    def max_bytes(self) -> int:
        return self._settings.upload_max_bytes

    def admit(self) -> None:
        """Operator switches: maintenance (455), uploads disabled (505)."""
        if self._settings.maintenance:
            raise Maintenance()
        if FEATURE in self._settings.disabled_features:
            raise FeatureDisabled("uploads are disabled on this server")

    async def from_base64(
        self, key: ApiKey, data: str, upload_path: str | None, file_name: str | None
    ) -> dict[str, Any]:
        path = rules.upload_path(upload_path)
        name = rules.file_name(file_name)
        payload = rules.decode_base64(data, self.max_bytes)
        mime = rules.mime_type(payload.data[:64], name, payload.declared_mime)
        name = name or rules.generated_name(rules.extension_for(None, mime))
        blob_key = rules.blob_key(key.id, path, name)
        await self._blobs.put_bytes(blob_key, payload.data, mime)
        return await self._record(key, path, name, blob_key, len(payload.data), mime)

    async def from_file(
        self,
        key: ApiKey,
        received: Received,
        upload_path: str | None,
        file_name: str | None,
        field: str = "file",
    ) -> dict[str, Any]:
        """Store a received temporary file (moved into the blob store, or deleted)."""
        try:
            path = rules.upload_path(upload_path)
            name = rules.file_name(file_name)
            if received.size == 0:
                raise ValidationFailed(field, "is empty")
            source = name or received.source_name
            mime = rules.mime_type(received.head, source, received.declared_mime)
            name = name or rules.generated_name(rules.extension_for(received.source_name, mime))
            blob_key = rules.blob_key(key.id, path, name)
            await self._blobs.put_file(blob_key, received.path, mime)
        finally:
            received.discard()
        return await self._record(key, path, name, blob_key, received.size, mime)

    async def from_url(
        self, key: ApiKey, url: str | None, upload_path: str | None, file_name: str | None
    ) -> dict[str, Any]:
        # Validate everything the client wrote before spending a download on it.
        rules.upload_path(upload_path)
        rules.file_name(file_name)
        if not url or not url.strip():
            raise ValidationFailed("fileUrl", "is required")
        url = check_http_url("fileUrl", url.strip())
        if not self._settings.allow_private_urls:
            try:
                check_url(url)
            except BlockedUrl as exc:
                raise ValidationFailed(
                    "fileUrl",
                    f"must not point at a private, loopback or link-local address ({exc})",
                ) from None
        received = await download(
            url,
            self.tmp_dir,
            self.max_bytes,
            self._settings.source_fetch_timeout_s,
            allow_private=self._settings.allow_private_urls,
            exempt=self._exempt,
        )
        return await self.from_file(key, received, upload_path, file_name, field="fileUrl")

    async def _record(
        self, key: ApiKey, path: str, name: str, blob_key: str, size: int, mime: str
    ) -> dict[str, Any]:
        now = time.time()
        expires_at = now + self._settings.upload_retention_hours * 3600
        await self._store.uploads.record(
            Upload(uuid.uuid4().hex, key.id, blob_key, size, mime, now, expires_at)
        )
        url = self._signer.url(blob_key, int(expires_at))
        millis = int(now * 1000) % 1000
        return {
            "fileName": name,
            "filePath": f"{path}/{name}",
            "downloadUrl": url,
            "fileSize": size,
            "mimeType": mime,
            "uploadedAt": iso_time(now).removesuffix("Z") + f".{millis:03d}Z",
            "url": url,
            "fileUrl": url,
        }
