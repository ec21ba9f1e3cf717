"""Fetching source media named by URL: bounded size, bounded time."""

from __future__ import annotations

from collections.abc import Iterable

import httpx

from reelserve.blobs.base import BlobNotFound, BlobStore
from reelserve.blobs.signing import UrlSigner
from reelserve.security.urlguard import BlockedUrl, outbound_transport
from reelserve.settings import Settings
from reelserve.worker.failures import GET_IMAGE_FAILED, TaskFailure


async def fetch_bytes(
    url: str,
    settings: Settings,
    *,
    fail_msg: str = GET_IMAGE_FAILED,
    exempt: Iterable[tuple[str, int]] = (),
    limit: int | None = None,
) -> bytes:
    """GET `url` (redirects followed) into memory; any failure ends the task with `fail_msg`.

    The message is the exact text clients match on (spec §5); the reason is logged.
    `limit` (default `source_max_bytes`) caps the size.
    """
    limit = limit or settings.source_max_bytes
    timeout = httpx.Timeout(settings.source_fetch_timeout_s)
    try:
        transport = outbound_transport(settings.allow_private_urls, exempt)
        async with (
            httpx.AsyncClient(
                transport=transport, timeout=timeout, follow_redirects=True, max_redirects=5
            ) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                raise TaskFailure(fail_msg, detail=f"HTTP {response.status_code} from {url}")
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise TaskFailure(fail_msg, detail=f"larger than {limit} bytes")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise TaskFailure(fail_msg, detail=f"larger than {limit} bytes")
                chunks.append(chunk)
            return b"".join(chunks)
    except BlockedUrl as exc:
        # Not the bare text: the client must learn why its URL was refused.
        raise TaskFailure(f"{fail_msg}: {exc}", detail=str(exc)) from None
    except httpx.HTTPError as exc:
        raise TaskFailure(fail_msg, detail=f"{type(exc).__name__}: {exc}") from None


async def read_source(
    url: str,
    settings: Settings,
    blobs: BlobStore,
    *,
    fail_msg: str = GET_IMAGE_FAILED,
    exempt: Iterable[tuple[str, int]] = (),
    limit: int | None = None,
) -> bytes:
    """The bytes `url` names: this server's own `/files/` URLs (an upload's `downloadUrl`,
    a task's media) straight from the blob store, any other URL through `fetch_bytes`.

    Own URLs never become HTTP requests: no round trip, and the URL guard (which
    refuses the server's own loopback address) does not apply. Their signature
    and expiry are checked as the files route would; a bad one fails the task.
    """
    # The key the app signs with, derived from the same settings (file or setting).
    signer = UrlSigner(settings.resolved_signing_secret(), settings.public_url)
    if not signer.is_own(url):
        return await fetch_bytes(url, settings, fail_msg=fail_msg, exempt=exempt, limit=limit)
    key = signer.verified_key(url)
    if key is None:
        raise TaskFailure(fail_msg, detail="invalid or expired signature on a /files/ URL")
    limit = limit or settings.source_max_bytes
    try:
        # Size first: on S3 an oversized object is refused without downloading it.
        if await blobs.size(key) > limit:
            raise TaskFailure(fail_msg, detail=f"larger than {limit} bytes")
        return await blobs.get_bytes(key)
    except BlobNotFound:
        raise TaskFailure(fail_msg, detail="the file was deleted") from None
