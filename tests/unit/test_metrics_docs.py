"""docs/operations.md lists every metric `/metrics` exports, with its labels, and no other."""

from __future__ import annotations

import re
from pathlib import Path

from prometheus_client import Counter, Histogram

from reelserve.observability import metrics
from reelserve.observability.db_metrics import families_of
from reelserve.store.gauges import Snapshot

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
ROW = re.compile(r"^\| `(reelserve_[a-z_]+)` \|[^|]+\|([^|]*)\|", re.M)


def documented() -> dict[str, set[str]]:
    return {
        name: set(re.findall(r"`([a-z_]+)`", labels))
        for name, labels in ROW.findall(DOC.read_text())
    }


def exported() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for value in vars(metrics).values():
        if isinstance(value, Counter | Histogram):
            suffix = "_total" if isinstance(value, Counter) else ""
            out[value._name + suffix] = set(value._labelnames)
    snap = Snapshot(queued={"e": (1, 0.0)}, running={"e": 1}, callbacks_pending=0, credits={"k": 1})
    for family in families_of(snap, 1.0):
        out[family.name] = {label for s in family.samples for label in s.labels}
    out["reelserve_database_up"] = set()
    return out


def test_every_exported_metric_is_documented_with_its_labels() -> None:
    assert documented() == exported()
