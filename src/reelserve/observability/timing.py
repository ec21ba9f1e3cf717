"""How long an attempt spent in its engine, as opposed to around it (the server overhead).

The worker starts a `Clock` around each attempt (a context variable, so the render threads
`asyncio.to_thread` starts see it); the call sites of an engine add to it: the `run()` call
itself and, for engines that produce lazily (video frames, a song's tracks), each item pulled
from what it returned.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass
class Clock:
    engine_s: float = 0.0


_CLOCK: ContextVar[Clock | None] = ContextVar("reelserve_engine_clock", default=None)


@contextlib.contextmanager
def attempt_clock() -> Iterator[Clock]:
    """The clock of one attempt: engine time added inside goes to it."""
    clock = Clock()
    token = _CLOCK.set(clock)
    try:
        yield clock
    finally:
        _CLOCK.reset(token)


async def engine_wait(work: Awaitable[T]) -> T:
    """`await work` (an engine that is awaited, e.g. following an upstream task), timed."""
    clock = _CLOCK.get()
    started = time.perf_counter()
    try:
        return await work
    finally:
        if clock is not None:
            clock.engine_s += time.perf_counter() - started


def engine_call(call: Callable[[], T]) -> T:
    """`call()` (an engine's run), its time added to the attempt's clock."""
    clock = _CLOCK.get()
    started = time.perf_counter()
    try:
        return call()
    finally:
        if clock is not None:
            clock.engine_s += time.perf_counter() - started


def engine_items(items: Iterable[T]) -> Iterator[T]:
    """`items` as produced by an engine, the time each takes to come added to the clock."""
    clock = _CLOCK.get()
    iterator = iter(items)
    while True:
        started = time.perf_counter()
        try:
            item = next(iterator)
        except StopIteration:
            return
        finally:
            if clock is not None:
                clock.engine_s += time.perf_counter() - started
        yield item
