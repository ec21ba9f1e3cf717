"""Fetching source media named by URL: bounded size, bounded time."""

from __future__ import annotations

from collections.abc import Iterable

import httpx

from reelserve.security.urlguard import BlockedUrl, outbound_transport
from reelserve.settings import Settings
from reelserve.worker.failures import GET_IMAGE_FAILED, TaskFailure


async def fetch_bytes(
    url: str,
    settings: Settings,
    *,
    fail_msg: str = GET_IMAGE_FAILED,
    exempt: Iterable[tuple[str, int]] = (),
) -> bytes:
    """GET `url` (redirects followed) into memory; any failure ends the task with `fail_msg`.

    The message is the exact text clients match on (spec §5); the reason is logged.
    """
    limit = settings.source_max_bytes
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
