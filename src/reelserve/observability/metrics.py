"""Process-local Prometheus counters and histograms, multi-process safe (docs/operations.md).

`reelserve serve` and `reelserve worker` call `use_directory()` before
anything is counted: every process then writes its values to memory-mapped
files in one directory (`PROMETHEUS_MULTIPROC_DIR` when set, else
`<data_dir>/metrics`), and the API's `/metrics` adds up every process's files
(`MultiProcessCollector`), so a worker process's finished tasks show in the
API's scrape. Without a directory (an app made in-process, tests) the values
live in this process's default registry.

What is counted where, once each: a submit after its insert (an idempotent
duplicate is not a new task); a task's end where it is written (the worker's
outcome, a queued task cancelled by the API, the sweep ending exhausted
tasks). Gauges read from the database at scrape time are in `db_metrics.py`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    multiprocess,
    values,
)

from reelserve.tasks.models import Task

# Every metric has labels: a labelled metric makes its values when a label set is first
# used, after `use_directory()` chose memory-mapped files (an unlabelled one would have
# made its value in memory at import, invisible to the other processes' scrape).
_SECONDS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)

TASKS_SUBMITTED = Counter(
    "reelserve_tasks_submitted",
    "Tasks accepted (an idempotent duplicate create is not counted).",
    ["family", "model"],
)
TASKS_FINISHED = Counter(
    "reelserve_tasks_finished",
    "Tasks that ended, by outcome (succeeded, failed, canceled).",
    ["family", "model", "outcome"],
)
CLAIM_LATENCY = Histogram(
    "reelserve_claim_latency_seconds",
    "From submit to a worker's first claim of the task.",
    ["engine"],
    buckets=_SECONDS,
)
ENGINE_RUN = Histogram(
    "reelserve_engine_run_seconds",
    "Time an attempt spent in its engine (for an upstream: following the upstream task).",
    ["engine"],
    buckets=_SECONDS,
)
SERVER_OVERHEAD = Histogram(
    "reelserve_server_overhead_seconds",
    "The rest of an attempt: inputs, planning, encoding, storage, the outcome write.",
    ["engine"],
    buckets=_SECONDS,
)
CALLBACKS = Counter(
    "reelserve_callback_deliveries",
    "Callback attempts by outcome (delivered, retrying, failed, abandoned).",
    ["outcome"],
)
CALLBACK_SEND = Histogram(
    "reelserve_callback_send_seconds",
    "One callback POST, from connect to the receiver's answer (or error).",
    ["outcome"],
    buckets=_SECONDS,
)
CALLBACK_DELAY = Histogram(
    "reelserve_callback_delay_seconds",
    "From the delivery queued (the task's end, or a Suno stage) to the receiver's 2xx.",
    ["stage"],
    buckets=_SECONDS,
)
HTTP_REQUESTS = Counter(
    "reelserve_http_requests",
    "HTTP requests by route template (never the raw path), method and status.",
    ["route", "method", "status"],
)
HTTP_DURATION = Histogram(
    "reelserve_http_request_duration_seconds",
    "HTTP request duration by route template and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
UPSTREAM_PAYMENT_REQUIRED = Counter(
    "reelserve_upstream_payment_required",
    "402 answers from an upstream (its account has no credits left).",
    ["upstream"],
)

_directory: Path | None = None


SHARED_MEMORY = Path("/dev/shm")  # noqa: S108 - the folder is checked to be ours, below


def default_directory(data_dir: Path) -> Path:
    """Where a data dir's processes keep their metric files: in shared memory (tmpfs)
    when the host has it, one folder per data dir, else `<data_dir>/metrics`.

    Not on the data disk if it can be helped: the files are memory-mapped, and a
    mapped file that grows on a full disk kills its process with SIGBUS (the
    full-disk outage test caught exactly that)."""
    if SHARED_MEMORY.is_dir() and os.access(SHARED_MEMORY, os.W_OK):
        digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]
        shared = SHARED_MEMORY / f"reelserve-metrics-{digest}"
        try:
            shared.mkdir(mode=0o700, exist_ok=True)
            info = shared.lstat()
        except OSError:
            return data_dir / "metrics"
        # Another user's folder (or a link planted there) is not ours to write into.
        if shared.is_dir() and not shared.is_symlink() and info.st_uid == os.getuid():
            return shared
    return data_dir / "metrics"


def use_directory(data_dir: Path) -> Path:
    """Multi-process mode: values go to files in `PROMETHEUS_MULTIPROC_DIR`, else
    `default_directory(data_dir)`. Call once per process, before anything is counted."""
    global _directory
    path = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or default_directory(data_dir))
    path.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    # prometheus_client chose its value class when imported; values made from now on
    # (every labelled child: none exists yet) are memory-mapped files in `path`.
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
    _directory = path
    return path


def directory() -> Path | None:
    return _directory


def process_registry() -> CollectorRegistry:
    """The counters and histograms to expose: every process's files, or this process's."""
    if _directory is None:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, str(_directory))  # type: ignore[no-untyped-call]
    return registry


def model_of(params: Mapping[str, Any]) -> str:
    """A task's model name from its params ("" when its family has none)."""
    return str(params.get("model") or params.get("model_id") or "")


def submitted(family: str, model: str) -> None:
    TASKS_SUBMITTED.labels(family, model).inc()


def finished(task: Task, outcome: str) -> None:
    TASKS_FINISHED.labels(task.dialect.value, model_of(task.params), outcome).inc()


def claimed(task: Task) -> None:
    """A task's first claim (its start written by this claim) gives the claim latency."""
    if task.attempts == 1 and task.started_at is not None and task.started_at == task.updated_at:
        CLAIM_LATENCY.labels(task.engine).observe(max(0.0, task.started_at - task.created_at))


def attempt_timed(engine: str, total_s: float, engine_s: float) -> None:
    ENGINE_RUN.labels(engine).observe(engine_s)
    SERVER_OVERHEAD.labels(engine).observe(max(0.0, total_s - engine_s))


def callback_sent(outcome: str, send_s: float, stage: str, delay_s: float | None) -> None:
    """One attempt; `delay_s` (queued to delivered) when it was delivered."""
    CALLBACKS.labels(outcome).inc()
    CALLBACK_SEND.labels(outcome).observe(send_s)
    if delay_s is not None:
        CALLBACK_DELAY.labels(stage or "final").observe(max(0.0, delay_s))


def http_request(route: str, method: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(route, method, str(status)).inc()
    HTTP_DURATION.labels(route, method).observe(seconds)


def payment_required(upstream: str) -> None:
    UPSTREAM_PAYMENT_REQUIRED.labels(upstream).inc()
