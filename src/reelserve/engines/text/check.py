"""`reelserve engines check` for the text engines: one lyric sheet from a short idea."""

from __future__ import annotations

import time

from reelserve.engines.base import Capability, Engine, EngineRequest, TextOutput
from reelserve.engines.isolated import IsolatedEngine

IDEA = "a lighthouse keeper who waits for a ship that never comes"


def check_text_engine(engine: Engine, name: str) -> str | None:
    """The `engines check` line of a lyrics-only engine; None for an engine that does more."""
    if engine.capabilities != frozenset({Capability.WRITE_LYRICS}):
        return None
    request = EngineRequest(operation=Capability.WRITE_LYRICS, prompt=IDEA, count=1, seed=1)
    started = time.perf_counter()
    output = engine.run(request, lambda _: None)
    elapsed = time.perf_counter() - started
    if not isinstance(output, TextOutput):
        return f"{name}: write_lyrics returned {type(output).__name__}"
    sheets = list(output.data.get("lyrics") or [])
    lines = sum(
        len([ln for ln in str(s.get("text", "")).splitlines() if ln.strip()]) for s in sheets
    )
    detail = ""
    if isinstance(engine, IsolatedEngine):
        pipeline = engine.stats.last_pipeline_s
        tokens = int(getattr(engine, "last_tokens", 0))
        rate = tokens / pipeline if pipeline > 0 else 0.0
        detail = f" (pipeline {pipeline:.2f} s, {tokens} tokens, {rate:.0f} tokens/s)"
    title = str(sheets[0].get("title", "")) if sheets else ""
    return (
        f"{name}: write_lyrics, {len(sheets)} sheet ({title!r}, {lines} lines) "
        f"in {elapsed:.2f} s{detail}"
    )
