"""Readiness (`GET /readyz`): can this process reach what it depends on, right now?

Each dependency is probed (a database read, a storage HEAD of a key that need
not exist) with a short timeout, and reported down as well while its last
operation failed: a full disk still answers reads but refuses writes. A
process that runs a worker also needs its configured engines loaded (set up):
`engines` says which are still loading or failed to. Load balancers take a
process out of rotation on 503; `/healthz` says only that it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable

from reelserve.blobs.base import BlobStore
from reelserve.errors import DependencyUnavailable
from reelserve.outages import Outage
from reelserve.store.store import Store
from reelserve.worker.loop import Worker

PROBE_TIMEOUT_S = 3.0
PROBE_KEY = "readyz/probe"


async def readiness(store: Store, blobs: BlobStore, worker: Worker | None = None) -> dict[str, str]:
    """`{"database": "ok" | "unavailable: <why>", "storage": ..., "engines": ...}`
    (`engines` only for a process that runs a worker)."""
    database, storage = await asyncio.gather(
        _probe(store.ping(), store.db.health), _probe(blobs.exists(PROBE_KEY), blobs.health)
    )
    checks = {"database": database, "storage": storage}
    if worker is not None:
        checks["engines"] = await engines_loaded(worker)
    return checks


async def engines_loaded(worker: Worker) -> str:
    """ "ok" once every engine the worker serves is set up; else which are not, and why."""
    loading = worker.load_engines()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(loading), PROBE_TIMEOUT_S)
    missing = sorted(n for n in worker.engines if worker.registry.loaded(n) is None)
    if not missing:
        return "ok"
    reasons = [f"{n}: {worker.engine_errors[n]}" for n in missing if n in worker.engine_errors]
    if reasons:
        return "unavailable: " + "; ".join(reasons)
    return "unavailable: still loading " + ", ".join(missing)


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
