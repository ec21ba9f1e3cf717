"""Group inserts: rows submitted while a write is in flight go out together.

Under load, many requests insert at once; one multi-row INSERT in one
transaction costs little more than a single row, so throughput grows with
concurrency instead of queueing behind per-row commits. At most one flush is
in flight; a lone request is written at once. If a batch fails, its rows are
retried one by one so one bad row cannot fail the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

Flush = Callable[[list[dict[str, Any]]], Awaitable[None]]


class InsertBatcher:
    def __init__(self, flush: Flush, max_rows: int = 256) -> None:
        self._flush = flush
        self._max_rows = max_rows
        self._pending: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._running: asyncio.Task[None] | None = None

    async def insert(self, row: dict[str, Any]) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((row, future))
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

    async def _write(self, batch: list[tuple[dict[str, Any], asyncio.Future[None]]]) -> None:
        try:
            await self._flush([row for row, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], exc)
                return
            for row, future in batch:
                try:
                    await self._flush([row])
                except Exception as single:
                    _settle(future, single)
                else:
                    _settle(future, None)
            return
        for _, future in batch:
            _settle(future, None)


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
