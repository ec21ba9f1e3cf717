"""The `reelserve` command: serve, worker, workers, keys, quickstart; the client commands are in
cli_client, the worker commands in worker_cli."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Annotated

import typer

from reelserve.cli_client import register as register_client_commands
from reelserve.engines.check import engines_app
from reelserve.observability import metrics
from reelserve.observability.logs import configure_logging
from reelserve.security.apikeys import display_prefix, generate_key, hash_key
from reelserve.settings import Settings
from reelserve.upstream.check import upstream_app
from reelserve.worker_cli import register as register_worker_commands

if TYPE_CHECKING:  # the store and the engines are imported by the commands that use them
    from reelserve.store.store import Store

app = typer.Typer(
    help="reelserve: self-hosted video generation speaking KIE.AI's API.", no_args_is_help=True
)
keys_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
register_client_commands(app)
register_worker_commands(app)
app.add_typer(engines_app, name="engines")
app.add_typer(upstream_app, name="upstream")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address (REELSERVE_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port (REELSERVE_PORT)")] = None,
    no_worker: Annotated[bool, typer.Option("--no-worker", help="API and deliveries only")] = False,
) -> None:
    """Run the API server (with an in-process task worker unless --no-worker)."""
    import uvicorn

    from reelserve.app import create_app
    from reelserve.engines.registry import EngineUnavailable
    from reelserve.httpserver import server_config

    settings = Settings()
    configure_logging(settings.log_format)
    metrics.use_directory(settings.data_dir)
    try:
        application = create_app(settings, run_worker=not no_worker)
    except EngineUnavailable as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    config = server_config(application, settings, host or settings.host, port or settings.port)
    server = uvicorn.Server(config)
    # uvicorn re-raises the SIGINT it handled once it has shut down (as uvicorn.run does,
    # a Ctrl-C that stopped the server cleanly exits 0).
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        raise typer.Exit(3)  # uvicorn's own code when it could not start (port taken, ...)


async def _with_store(settings: Settings) -> Store:
    from reelserve.store.store import Store

    store = Store(settings.resolved_database_url)
    await store.open()
    return store


WebhookKeyOption = Annotated[
    str | None,
    typer.Option(
        "--webhook-hmac-key",
        help="secret that signs this key's callbacks (KIE and Standard Webhooks signatures)",
    ),
]


RateLimitOption = Annotated[
    int | None,
    typer.Option("--rate-limit", min=0, help="new tasks per 10 s (default 20; 0: unlimited)"),
]
MaxConcurrentOption = Annotated[
    int | None,
    typer.Option("--max-concurrent", min=0, help="tasks running at once (0: unlimited)"),
]
CreditsOption = Annotated[
    str | None,
    typer.Option("--credits", help="credit balance: a number, or 'unlimited' (the default)"),
]
MaxQueuedOption = Annotated[
    int | None,
    typer.Option("--max-queued", min=0, help="tasks waiting at once (0: unlimited)"),
]


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option("--name", help="a unique name for the key")],
    webhook_hmac_key: WebhookKeyOption = None,
    rate_limit: RateLimitOption = None,
    max_concurrent: MaxConcurrentOption = None,
    max_queued: MaxQueuedOption = None,
    credits: CreditsOption = None,
) -> None:
    """Create an API key; the key is printed alone on the last line."""
    from reelserve.store.keys import DuplicateKeyName

    balance = _parse_credits(credits) if credits is not None else None

    async def run() -> str:
        store = await _with_store(Settings())
        try:
            key = generate_key()
            await store.keys.create(
                name,
                hash_key(key),
                display_prefix(key),
                webhook_hmac_key or None,
                rate_limit=20 if rate_limit is None else rate_limit,
                max_concurrent=max_concurrent or 0,
                max_queued=max_queued or 0,
                credits=balance,
            )
            return key
        finally:
            await store.close()

    try:
        key = asyncio.run(run())
    except DuplicateKeyName:
        typer.echo(f"error: a key named {name!r} already exists", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Created API key {name!r}. It is shown only once; store it safely:")
    typer.echo(key)


@keys_app.command("list")
def keys_list() -> None:
    """List API keys (names and prefixes; keys themselves are never stored)."""
    from reelserve.api.timefmt import runway_time

    def limit(n: int) -> str:
        return str(n) if n else "unlimited"

    async def run() -> list[tuple[str, ...]]:
        store = await _with_store(Settings())
        try:
            return [
                (
                    k.name,
                    k.key_prefix + "…",
                    runway_time(k.created_at),
                    "revoked " + runway_time(k.revoked_at) if k.revoked_at else "active",
                    f"rate/10s {limit(k.rate_limit)}",
                    f"concurrent {limit(k.max_concurrent)}",
                    f"queued {limit(k.max_queued)}",
                    "credits unlimited" if k.credits is None else f"credits {k.credits}",
                )
                for k in await store.keys.list()
            ]
        finally:
            await store.close()

    rows = asyncio.run(run())
    if not rows:
        typer.echo("no API keys yet: reelserve keys create --name NAME")
        return
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        typer.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


@keys_app.command("update")
def keys_update(
    name: str,
    webhook_hmac_key: WebhookKeyOption = None,
    rate_limit: RateLimitOption = None,
    max_concurrent: MaxConcurrentOption = None,
    max_queued: MaxQueuedOption = None,
    credits: CreditsOption = None,
) -> None:
    """Change a key's settings: rotate its webhook HMAC key ("" clears it), limits, credits."""
    changes: dict[str, object] = {}
    if credits is not None:
        changes["credits"] = _parse_credits(credits)
    if webhook_hmac_key is not None:
        changes["webhook_hmac_key"] = webhook_hmac_key or None
    for field, value in (
        ("rate_limit", rate_limit),
        ("max_concurrent", max_concurrent),
        ("max_queued", max_queued),
    ):
        if value is not None:
            changes[field] = value
    if not changes:
        typer.echo("error: nothing to update (see --help)", err=True)
        raise typer.Exit(2)

    async def run() -> bool:
        store = await _with_store(Settings())
        try:
            return await store.keys.update(name, **changes)
        finally:
            await store.close()

    if not asyncio.run(run()):
        typer.echo(f"error: no key named {name!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"Updated {name!r}.")


@keys_app.command("revoke")
def keys_revoke(name: str) -> None:
    """Revoke a key by name; requests with it are refused from then on."""

    async def run() -> bool:
        store = await _with_store(Settings())
        try:
            return await store.keys.revoke(name)
        finally:
            await store.close()

    if not asyncio.run(run()):
        typer.echo(f"error: no active key named {name!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"Revoked {name!r}.")


@app.command()
def quickstart(
    keep_serving: Annotated[
        bool, typer.Option("--keep-serving", help="leave the server running")
    ] = False,
    out: Annotated[str, typer.Option(help="where to save the demo videos")] = "quickstart-output",
) -> None:
    """Start a server on embedded defaults, run a demo end to end, print what it made."""
    from reelserve.demo import run_quickstart

    raise typer.Exit(run_quickstart(keep_serving=keep_serving, out_dir=out))


def _parse_credits(value: str) -> int | None:
    if value.strip().lower() == "unlimited":
        return None
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        typer.echo("error: --credits must be a whole number >= 0 or 'unlimited'", err=True)
        raise typer.Exit(2)
    return number


def main() -> None:
    app()
