"""`GET /metrics`: Prometheus text format (docs/operations.md, "Metrics").

Every process's counters and histograms (observability/metrics.py) plus the gauges read
from the database now (observability/db_metrics.py). With `REELSERVE_METRICS_TOKEN` set,
the scrape must send `Authorization: Bearer <token>` (401 otherwise).
"""

from __future__ import annotations

import asyncio
import hmac

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from reelserve.errors import DependencyUnavailable
from reelserve.observability import metrics
from reelserve.observability.db_metrics import Families, database_families
from reelserve.settings import Settings
from reelserve.store.store import Store

router = APIRouter()

DATABASE_TIMEOUT_S = 3.0


@router.get("/metrics", include_in_schema=False)
async def scrape(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    if settings.metrics_token and not _authorised(request, settings.metrics_token):
        return PlainTextResponse(
            "a bearer token is required (REELSERVE_METRICS_TOKEN)\n",
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    families = await _database(request.app.state.store)
    return Response(await asyncio.to_thread(_render, families), media_type=CONTENT_TYPE_LATEST)


def _authorised(request: Request, token: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


async def _database(store: Store) -> list[Metric]:
    up = GaugeMetricFamily(
        "reelserve_database_up", "1 when this scrape could read the database's gauges."
    )
    try:
        families = await asyncio.wait_for(database_families(store), DATABASE_TIMEOUT_S)
    except (DependencyUnavailable, TimeoutError):
        up.add_metric([], 0)
        return [up]
    up.add_metric([], 1)
    return [up, *families]


def _render(families: list[Metric]) -> bytes:
    out = generate_latest(metrics.process_registry())
    registry = CollectorRegistry(auto_describe=False)
    registry.register(Families(families))
    return out + generate_latest(registry)
