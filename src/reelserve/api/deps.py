"""Request dependencies: the caller's API key and the app's services."""

from __future__ import annotations

import time

from fastapi import Request

from reelserve.errors import Unauthorized
from reelserve.security.apikeys import hash_key
from reelserve.store.keys import ApiKey
from reelserve.tasks.service import TaskService

_CACHE_S = 2.0
"""Seconds a key lookup is reused; bounds how long a revoked key keeps working."""


def bearer_token(header: str | None) -> str | None:
    """`Bearer <key>`, or the bare key that some clients send."""
    if not header:
        return None
    value = header.strip()
    scheme, _, rest = value.partition(" ")
    if scheme.lower() == "bearer":
        value = rest.strip()
    return value or None


async def current_key(request: Request) -> ApiKey:
    """The caller's key, or Unauthorized.

    Routes call this directly rather than through `Depends`: FastAPI's
    dependency solving costs more than the rest of a poll.
    """
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise Unauthorized()
    digest = hash_key(token)
    cache: dict[str, tuple[float, ApiKey | None]] = request.app.state.key_cache
    now = time.monotonic()
    hit = cache.get(digest)
    if hit is not None and now - hit[0] < _CACHE_S:
        key = hit[1]
    else:
        key = await request.app.state.store.keys.by_hash(digest)
        if len(cache) > 10_000:
            cache.clear()
        cache[digest] = (now, key)
    if key is None or not key.active:
        raise Unauthorized()
    return key


def task_service(request: Request) -> TaskService:
    service: TaskService = request.app.state.service
    return service
