"""Gauges computed from the database at scrape time (the queue, running tasks, pending
callbacks, credit balances): the database holds the truth for every process, so these are
read once per scrape by the API, never counted per process."""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from reelserve.store.gauges import Snapshot, snapshot
from reelserve.store.store import Store


class Families(Collector):
    """Metric families made already (a scrape's database reading)."""

    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterator[Metric]:
        yield from self._families


async def database_families(store: Store, now: float | None = None) -> list[Metric]:
    return families_of(await store.db.read(snapshot), time.time() if now is None else now)


def families_of(snap: Snapshot, now: float) -> list[Metric]:
    depth = GaugeMetricFamily(
        "reelserve_queue_depth", "Tasks waiting to be claimed, by engine.", labels=["engine"]
    )
    age = GaugeMetricFamily(
        "reelserve_queue_oldest_age_seconds",
        "Age of the oldest queued task, by engine (absent: nothing queued).",
        labels=["engine"],
    )
    for engine, (count, oldest) in sorted(snap.queued.items()):
        depth.add_metric([engine], count)
        age.add_metric([engine], max(0.0, now - oldest))
    running = GaugeMetricFamily(
        "reelserve_tasks_running", "Tasks running now, by engine.", labels=["engine"]
    )
    for engine, count in sorted(snap.running.items()):
        running.add_metric([engine], count)
    pending = GaugeMetricFamily(
        "reelserve_callbacks_pending", "Callback deliveries waiting for an attempt or a retry."
    )
    pending.add_metric([], snap.callbacks_pending)
    credits = GaugeMetricFamily(
        "reelserve_credits_balance",
        "Credit balance by key name (keys with a finite balance, not revoked).",
        labels=["key"],
    )
    for name, balance in sorted(snap.credits.items()):
        credits.add_metric([name], balance)
    return [depth, age, running, pending, credits]
