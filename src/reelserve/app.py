"""create_app(settings): wires the API, the store, the blob store and the in-process worker."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from reelserve import __version__
from reelserve.api import account, callbacks, files, metrics, uploads
from reelserve.api import tasks as task_detail
from reelserve.api.cors import Cors
from reelserve.api.envelope import install_error_handlers
from reelserve.api.readiness import readiness
from reelserve.blobs.base import BlobStore, BlobUnavailable
from reelserve.blobs.choose import blob_store_for
from reelserve.blobs.links import MediaLinks
from reelserve.blobs.signing import UrlSigner
from reelserve.callbacks.loop import DeliveryLoop
from reelserve.callbacks.outbox import Outbox
from reelserve.callbacks.service import CallbackService
from reelserve.console import routes as console
from reelserve.engines.registry import EngineRegistry, registry_for
from reelserve.errors import RETRY_AFTER_S, DatabaseUnavailable
from reelserve.families.aleph import routes as aleph
from reelserve.families.flux_kontext import routes as flux_kontext
from reelserve.families.gpt4o_image import routes as gpt4o_image
from reelserve.families.market import routes as market
from reelserve.families.runway import routes as runway
from reelserve.families.runway_official import errors as runway_official_errors
from reelserve.families.runway_official import routes as runway_official
from reelserve.families.suno import routes as suno
from reelserve.families.veo import routes as veo
from reelserve.janitor import Janitor
from reelserve.observability.http import RequestMetrics
from reelserve.settings import Settings
from reelserve.store.postgres import DELIVERIES_DUE, TASKS_QUEUED
from reelserve.store.store import Store
from reelserve.tasks.service import TaskService
from reelserve.uploads.service import UploadService
from reelserve.upstream import routes as upstream_routes
from reelserve.worker.loop import Worker, configured_engines
from reelserve.worker.node import keep_present, presence, supervise

log = logging.getLogger("reelserve")


def create_app(
    settings: Settings,
    *,
    run_worker: bool = True,
    registry: EngineRegistry | None = None,
    blobs: BlobStore | None = None,
    outbound_exempt: Iterable[tuple[str, int]] = (),
) -> FastAPI:
    """The ASGI app. Example: `uvicorn.run(create_app(Settings()))`.

    `outbound_exempt` lists (address, port) pairs the URL guard lets through;
    tests use it to stand a loopback server in for a public one.
    """
    registry = registry or registry_for(settings.engine_plugins, settings)
    for name in configured_engines(settings):
        registry.check(name)
    store = Store(settings.resolved_database_url, settings.read_cache_s)
    blobs = blobs or blob_store_for(settings)
    signer = UrlSigner(settings.resolved_signing_secret(), settings.public_url)
    links = MediaLinks(settings, signer)
    deliveries = DeliveryLoop(settings, store, exempt=outbound_exempt)
    worker = (
        Worker(
            settings,
            store,
            blobs,
            registry,
            outbox=Outbox(links),
            on_delivery=deliveries.wake,
            exempt=outbound_exempt,
        )
        if run_worker
        else None
    )
    janitor = Janitor(settings, store, blobs)
    # PostgreSQL: other processes' new tasks and deliveries wake ours at once.
    listener = (
        store.listener(
            {
                TASKS_QUEUED: worker.wake_for if worker else lambda _engine: None,
                DELIVERIES_DUE: lambda _payload: deliveries.wake(),
            }
        )
        if settings.listen_notify
        else None
    )
    service = TaskService(
        settings,
        store,
        blobs,
        on_submit=worker.wake if worker else lambda: None,
        delivery_for=Outbox(links).delivery_for,
        on_delivery=deliveries.wake,
        on_cancel=worker.cancel if worker else lambda _task_id: None,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await store.open()
        # Everything built so far (modules, routes, table metadata) lives as long
        # as the process. Freezing it keeps full collections from rescanning it:
        # measured, they otherwise stall the event loop for tens of milliseconds
        # under load (p99 of POST generate 80 ms -> 22 ms, bench/RESULTS.md).
        gc.collect()
        gc.freeze()
        loops = [
            asyncio.create_task(janitor.run(), name="janitor"),
            asyncio.create_task(deliveries.run(), name="deliveries"),
        ]
        if worker is not None:
            # Supervised: an in-process worker that stops is restarted (and logged); its
            # row stops beating meanwhile, so `reelserve workers` never shows it alive.
            serving = supervise("the in-process worker", worker.run, lambda: worker.stopping)
            loops.append(asyncio.create_task(serving, name="worker"))
            presence_row = presence(worker, 1)
            loops.append(
                asyncio.create_task(
                    keep_present(
                        store,
                        presence_row,
                        settings.worker_heartbeat_s,
                        alive=lambda: worker.alive,
                    ),
                    name="presence",
                )
            )
        if listener is not None:
            loops.append(asyncio.create_task(listener.run(), name="listener"))
        try:
            yield
        finally:
            deliveries.stop()
            if listener is not None:
                listener.stop()
            if worker is not None:
                worker.stop()
            for loop in loops:
                loop.cancel()
            for loop in loops:
                with contextlib.suppress(asyncio.CancelledError):
                    await loop
            await store.close()
            # Engine child processes (diffusers) end with the server.
            await asyncio.to_thread(registry.close)

    app = FastAPI(
        title="reelserve",
        version=__version__,
        description="Self-hosted video generation speaking KIE.AI's video API.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.blobs = blobs
    app.state.signer = signer
    app.state.links = links
    app.state.deliveries = deliveries
    app.state.callbacks = CallbackService(store, Outbox(links), deliveries.wake)
    app.state.service = service
    app.state.worker = worker
    app.state.janitor = janitor
    app.state.uploads = UploadService(settings, store, blobs, signer, outbound_exempt)
    app.state.key_cache = {}
    app.state.registry = registry
    # What the one exception handler counts a 503 against (docs/operations.md).
    app.state.outages = {DatabaseUnavailable: store.db.health, BlobUnavailable: blobs.health}
    app.add_middleware(
        Cors,
        allow_origins=list(settings.cors_origins),
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=["Retry-After", "Content-Range", "Accept-Ranges"],
        allow_credentials=False,
    )
    app.add_middleware(RequestMetrics)
    install_error_handlers(app, {runway_official_errors.PREFIX: runway_official_errors.render})
    app.include_router(runway.router)
    app.include_router(runway_official.router)
    app.include_router(aleph.router)
    app.include_router(market.router)
    app.include_router(veo.router)
    app.include_router(gpt4o_image.router)
    app.include_router(flux_kontext.router)
    app.include_router(suno.router)
    app.include_router(callbacks.router)
    app.include_router(account.router)
    app.include_router(uploads.router)
    app.include_router(files.router)
    app.include_router(upstream_routes.router)
    app.include_router(task_detail.router)
    app.include_router(metrics.router)
    console.install(app)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        """Can this process serve requests now? 200, or 503 naming what is down."""
        checks = await readiness(store, blobs, worker)
        ready = all(state == "ok" for state in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "unavailable", **checks},
            status_code=200 if ready else 503,
            headers=None if ready else {"Retry-After": str(RETRY_AFTER_S)},
        )

    return app
