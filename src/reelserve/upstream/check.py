"""`reelserve upstream check NAME` and `reelserve upstream list`: is an upstream usable?

    $ reelserve upstream check kie
    upstream:kie  https://api.kie.ai
      reachable    yes (84 ms)
      credentials  accepted
      credits      1520
      uploads      https://kieai.redpandaai.co reachable (HTTP 404 at /, 51 ms)
      routes       kling-*=upstream:kie; nano-banana-*=upstream:kie,synthetic

Exit 0 when the upstream answered with the key accepted, 1 when it did not,
2 when no such upstream is configured.
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

import httpx
import typer

from reelserve.settings import Settings
from reelserve.upstream.client import (
    UpstreamClient,
    UpstreamDown,
    UpstreamError,
    UpstreamUnusable,
)
from reelserve.upstream.config import UpstreamConfig

upstream_app = typer.Typer(help="Inspect the configured upstream providers.", no_args_is_help=True)


def _line(label: str, text: str) -> None:
    typer.echo(f"  {label:<12} {text}")


async def _check(config: UpstreamConfig, settings: Settings) -> bool:
    client = UpstreamClient(config.model_copy(update={"retries": 0}))
    typer.echo(f"{config.engine}  {config.url}")
    ok = True
    started = time.perf_counter()
    try:
        balance = await client.credit()
        ms = (time.perf_counter() - started) * 1000
        _line("reachable", f"yes ({ms:.0f} ms)")
        _line("credentials", "accepted" if config.key else "accepted (no key set)")
        _line("credits", str(balance))
    except UpstreamUnusable as exc:
        _line("reachable", "yes")
        if exc.code in (401, 403):
            _line("credentials", f"refused: {exc.message} (code {exc.code})")
        elif exc.code == 402:
            _line("credentials", "accepted")
            _line("credits", f"none left: {exc.message} (code 402)")
        else:
            _line("answer", f"{exc.message} (code {exc.code})")
        ok = False
    except UpstreamDown as exc:
        _line("reachable", f"no: {exc.message} (code {exc.code})")
        ok = False
    except UpstreamError as exc:
        _line("answer", f"{exc.message} (code {exc.code})")
        ok = False
    finally:
        await client.close()
    upload = config.uploads_at
    started = time.perf_counter()
    try:
        async with httpx.AsyncClient(timeout=config.request_timeout_s) as http:
            answer = await http.get(upload + "/")
        ms = (time.perf_counter() - started) * 1000
        _line("uploads", f"{upload} reachable (HTTP {answer.status_code} at /, {ms:.0f} ms)")
    except httpx.HTTPError as exc:
        _line("uploads", f"{upload} unreachable: {type(exc).__name__}: {exc}")
        ok = False
    routes = [r.text() for r in settings.route_table() if config.engine in r.engines]
    _line("routes", "; ".join(routes) if routes else "none (no route names it)")
    limits = f"concurrency {config.concurrency or 'unlimited'}, poll up to {config.poll_s:g} s"
    _line("limits", f"{limits}, timeout {config.timeout_s:g} s, {config.retries} retries")
    return ok


@upstream_app.command("check")
def check(name: Annotated[str, typer.Argument(help="the upstream, e.g. kie")]) -> None:
    """Reachability, credentials and credit balance of an upstream's key, and its routes."""
    try:
        settings = Settings()
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    config = settings.upstreams.get(name.removeprefix("upstream:"))
    if config is None:
        known = ", ".join(sorted(settings.upstreams)) or "none"
        env = name.upper().replace("-", "_")
        typer.echo(
            f"error: no upstream {name!r} (configured: {known}); "
            f"set REELSERVE_UPSTREAM_{env}_URL and _KEY",
            err=True,
        )
        raise typer.Exit(2)
    if not asyncio.run(_check(config, settings)):
        raise typer.Exit(1)


@upstream_app.command("list")
def list_upstreams() -> None:
    """The configured upstreams and their hosts."""
    settings = Settings()
    if not settings.upstreams:
        typer.echo("no upstreams: set REELSERVE_UPSTREAM_<NAME>_URL (docs/upstream.md)")
        return
    for config in settings.upstreams.values():
        key = "key set" if config.key else "no key"
        typer.echo(f"{config.engine}  {config.url}  uploads {config.uploads_at}  {key}")
