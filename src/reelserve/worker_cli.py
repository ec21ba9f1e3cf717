"""The `reelserve worker` and `reelserve workers` commands (registered by cli.py)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from typing import Annotated

import typer

from reelserve.settings import Settings


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
    app.command("workers")(workers)


def worker(
    engine: Annotated[
        list[str] | None,
        typer.Option(
            "--engine",
            help="engine whose tasks to run (repeatable; default: every engine in "
            "REELSERVE_ENGINES)",
        ),
    ] = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, help="tasks run at once by this process")
    ] = 1,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            "--metrics-port",
            help="serve this process's metrics at http://<REELSERVE_HOST>:PORT/metrics "
            "(for a worker whose metrics directory the API does not read: another host)",
        ),
    ] = None,
) -> None:
    """Run a task worker (and the callback delivery loop) against the shared database.

    SIGTERM stops claiming, lets running tasks finish for REELSERVE_WORKER_GRACE_S,
    gives the rest back to the queue and exits 0.
    """
    from prometheus_client import start_http_server

    from reelserve.engines.registry import EngineUnavailable
    from reelserve.observability import metrics
    from reelserve.observability.logs import configure_logging
    from reelserve.worker.node import WorkerNode

    settings = Settings()
    configure_logging(settings.log_format)
    metrics.use_directory(settings.data_dir)
    if metrics_port is not None:
        start_http_server(metrics_port, settings.host, registry=metrics.process_registry())
    try:
        node = WorkerNode(settings, engines=engine or (), concurrency=concurrency)
    except EngineUnavailable as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None

    loop = asyncio.new_event_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, node.request_stop)
    code = 0
    try:
        loop.run_until_complete(node.run())
    except Exception:
        logging.getLogger("reelserve.worker").exception("worker failed")
        code = 1
    finally:
        loop.close()
    # An engine that ignores the stop request may still hold a thread; its task
    # is already back in the queue, so nothing is lost by not waiting for it.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def workers() -> None:
    """List worker processes: id, host, engines, current tasks, last heartbeat."""
    from reelserve.store.store import Store

    settings = Settings()

    async def run() -> list[tuple[str, ...]]:
        store = Store(settings.resolved_database_url)
        await store.open()
        try:
            rows = await store.workers.list()
        finally:
            await store.close()
        now = time.time()
        # Three missed heartbeats: the process is gone or cannot reach the database.
        lost_after = 3 * settings.worker_heartbeat_s
        return [
            (
                w.id,
                w.host,
                ",".join(w.engines),
                ",".join(w.tasks) or "-",
                f"{max(0.0, now - w.heartbeat_at):.1f}s ago",
                "alive" if now - w.heartbeat_at <= lost_after else "lost",
            )
            for w in rows
        ]

    rows = asyncio.run(run())
    if not rows:
        typer.echo("no workers have reported (reelserve worker, or reelserve serve)")
        return
    rows.insert(0, ("ID", "HOST", "ENGINES", "CURRENT TASK", "LAST HEARTBEAT", "STATE"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        typer.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
