"""Readiness (`GET /readyz`): can this process reach what it depends on, right now?

Each dependency is probed (a database read, a storage HEAD of a key that need
not exist) with a short timeout, and reported down as well while its last
operation failed: a full disk still answers reads but refuses writes. Load
balancers take a process out of rotation on 503; `/healthz` says only that
it runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from reelserve.blobs.base import BlobStore
from reelserve.errors import DependencyUnavailable
from reelserve.outages import Outage
from reelserve.store.store import Store

PROBE_TIMEOUT_S = 3.0
PROBE_KEY = "readyz/probe"


async def readiness(store: Store, blobs: BlobStore) -> dict[str, str]:
    """`{"database": "ok" | "unavailable: <why>", "storage": ...}`."""
    database, storage = await asyncio.gather(
        _probe(store.ping(), store.db.health), _probe(blobs.exists(PROBE_KEY), blobs.health)
    )
    return {"database": database, "storage": storage}


async def _probe(call: Awaitable[object], health: Outage) -> str:
    try:
        await asyncio.wait_for(call, PROBE_TIMEOUT_S)
    except DependencyUnavailable as exc:
        return f"unavailable: {exc}"
    except TimeoutError:
        return f"unavailable: no answer within {PROBE_TIMEOUT_S:g} s"
    if health.down:
        return f"unavailable: {health.reason}"
    return "ok"
