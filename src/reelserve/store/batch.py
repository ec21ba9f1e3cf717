"""Group inserts: rows submitted while a write is in flight go out together.

Under load, many requests insert at once; one transaction for many rows costs
little more than for one, so throughput grows with concurrency instead of
queueing behind per-row commits. At most one flush is in flight; a lone
request is written at once. The flush returns one outcome per item (None or
the exception for that item, e.g. a refused admission); if the flush itself
fails, the items are retried one by one so one bad row cannot fail the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

Item = TypeVar("Item")
Flush = Callable[[list[Item]], Awaitable[list[BaseException | None]]]


class InsertBatcher(Generic[Item]):
    def __init__(self, flush: Flush[Item], max_rows: int = 256) -> None:
        self._flush = flush
        self._max_rows = max_rows
        self._pending: list[tuple[Item, asyncio.Future[None]]] = []
        self._running: asyncio.Task[None] | None = None

    async def insert(self, item: Item) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._running is None:
            self._running = asyncio.create_task(self._drain())
        await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch = self._pending[: self._max_rows]
                del self._pending[: self._max_rows]
                await self._write(batch)
        finally:
            self._running = None

    async def _write(self, batch: list[tuple[Item, asyncio.Future[None]]]) -> None:
        try:
            outcomes = await self._flush([item for item, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], exc)
                return
            outcomes = []
            for item, _ in batch:
                try:
                    outcomes.extend(await self._flush([item]))
                except Exception as single:
                    outcomes.append(single)
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            _settle(future, outcome)


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
