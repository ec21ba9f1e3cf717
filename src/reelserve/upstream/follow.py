"""One task served by an upstream: hand-off, submit once, follow to the end, keep the files.

1. The hand-off row (`store/handoffs.py`) is read first: an upstream task id
   recorded by an earlier attempt is followed, never submitted again.
2. Otherwise the body is prepared (`upstream/inputs.py`: uploads, parent ids,
   the callback), the submission is noted under the lease, the create is sent
   (`Idempotency-Key: reelserve:<task>:<engine>:<body hash>`) and the upstream's task id
   recorded the moment it answers.
3. The record is polled with backoff (a tenth of `poll_s`, growing to it) and
   at once when the upstream calls back (`Nudges`); progress is passed through.
   A Suno song's `text` and `first` stages are recorded as they appear upstream.
4. On success every result file is fetched and checked (`upstream/results.py`)
   and returned for the worker to store as the task's artifacts.

Failures: the upstream refusing the input (4xx, or its task failing through
the input) is a `TaskFailure` with its code and message; anything else
(unreachable after the retries, 5xx, 402, a failed generation, the timeout)
is `EngineDown`, and the worker moves the task to its route's next engine.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from pathlib import Path
from typing import TypeVar

from reelserve.blobs.base import BlobStore
from reelserve.errors import DatabaseUnavailable
from reelserve.retry import patiently
from reelserve.settings import Settings
from reelserve.store.store import Store
from reelserve.tasks.models import Dialect, Task
from reelserve.upstream.client import (
    UpstreamDown,
    UpstreamError,
    UpstreamRejected,
    UpstreamUnusable,
)
from reelserve.upstream.engine import UpstreamEngine
from reelserve.upstream.inputs import Preparer
from reelserve.upstream.results import ResultFiles
from reelserve.upstream.wire import (
    FAILED,
    SUCCEEDED,
    NotForwardable,
    Reading,
    paths,
    read,
    upstream_task_id,
)
from reelserve.worker.failures import EngineDown, TaskFailure
from reelserve.worker.music import Stage
from reelserve.worker.patience import Lease, LeaseLost, record
from reelserve.worker.produce import Produced

log = logging.getLogger("reelserve.upstream")

T = TypeVar("T")


class Nudges:
    """Upstream callbacks that arrived, by task id: the follower of that task polls at once."""

    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}

    def watch(self, task_id: str) -> asyncio.Event:
        return self._events.setdefault(task_id, asyncio.Event())

    def forget(self, task_id: str) -> None:
        self._events.pop(task_id, None)

    def nudge(self, task_id: str) -> bool:
        event = self._events.get(task_id)
        if event is None:
            return False
        event.set()
        return True


class Follower:
    def __init__(
        self,
        task: Task,
        engine: UpstreamEngine,
        *,
        settings: Settings,
        store: Store,
        blobs: BlobStore,
        tmp: Path,
        lease: Lease,
        progress: Callable[[float], None],
        stage: Stage | None,
        nudges: Nudges,
    ) -> None:
        self.task = task
        self.engine = engine
        self.client = engine.client
        self.settings = settings
        self.store = store
        self.blobs = blobs
        self.tmp = tmp
        self.lease = lease
        self.progress = progress
        self.stage = stage
        self.nudges = nudges
        self.files = ResultFiles(task, engine.client, tmp)
        self._staged = ""

    @property
    def name(self) -> str:
        return self.engine.engine

    async def run(self) -> Produced:
        try:
            create, record_path = paths(self.task)
            upstream_id, since = await self._handed_off(create)
            return await self._follow(record_path, upstream_id, since)
        except NotForwardable as exc:
            raise EngineDown(f"{self.name} cannot serve this task: {exc}") from None
        except UpstreamRejected as exc:
            raise TaskFailure(exc.message, exc.code, detail=str(exc)) from None
        except UpstreamError as exc:
            raise EngineDown(str(exc)) from None
        finally:
            self.nudges.forget(self.task.id)

    async def _handed_off(self, create: str) -> tuple[str, float]:
        """The upstream task id (submitting it unless an earlier attempt did) and since when."""
        handoff = await self.store.handoffs.get(self.task.id, self.name)
        if handoff is not None and handoff.accepted:
            log.info("task %s: following %s task %s", self.task.id, self.name, handoff.upstream_id)
            return str(handoff.upstream_id), handoff.created_at
        body = await Preparer(
            self.task, self.engine, self.settings, self.blobs, self.store.handoffs, self.tmp
        ).body()
        token = self.task.lease_token or ""
        noted = None

        async def note() -> bool:
            nonlocal noted
            noted = await self.store.handoffs.submitting(self.task.id, token, self.name)
            return noted is not None

        written = await record(self.task.id, "its upstream submission", self.lease, note)
        if not written or noted is None:
            raise LeaseLost()
        if noted.accepted:
            return str(noted.upstream_id), noted.created_at
        if noted.submissions > 1:
            log.warning(
                "task %s: an earlier attempt's submission to %s has no recorded answer; "
                "sending it again with the same Idempotency-Key",
                self.task.id,
                self.name,
            )
        self.nudges.watch(self.task.id)
        # Keyed by the body too: a re-sent create whose inputs were uploaded again differs,
        # and must not be answered 422 by an upstream that checks keys against bodies.
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]
        key = f"reelserve:{self.task.id}:{self.name}:{digest}"
        created = await self.client.create(create, body, key)
        upstream_id = upstream_task_id(created)
        if not upstream_id:
            raise UpstreamDown(self.name, 502, "the create answered without a taskId")
        recorded = await self._patiently(
            lambda: self.store.handoffs.accepted(self.task.id, self.name, upstream_id, {})
        )
        log.info("task %s: handed off to %s as %s", self.task.id, self.name, recorded)
        return recorded, noted.created_at

    async def _patiently(self, write: Callable[[], Awaitable[T]]) -> T:
        """A hand-off write retried through a database outage however long it lasts: the
        upstream's answer must not be lost."""
        return await patiently(write, deadline=lambda: math.inf, retry_on=DatabaseUnavailable)

    async def _follow(self, record_path: str, upstream_id: str, since: float) -> Produced:
        deadline = since + self.engine.config.timeout_s
        wait = self.engine.config.poll_s / 10
        nudged = self.nudges.watch(self.task.id)
        while True:
            if self.lease.lost:
                raise LeaseLost()
            try:
                data = await self.client.record(record_path, upstream_id)
            except UpstreamRejected as exc:  # a 4xx for our own poll: not the input's fault
                raise UpstreamUnusable(exc.upstream, exc.code, exc.message) from None
            reading = read(self.task, data)
            if reading.progress is not None:
                self.progress(max(0.0, min(0.99, reading.progress)))
            else:
                self.progress(0.0)
            if reading.state == FAILED:
                if reading.input_fault:
                    raise TaskFailure(reading.fail_msg, reading.fail_code or 400)
                raise EngineDown(
                    f"{self.name}: its task {upstream_id} failed: {reading.fail_msg} "
                    f"(code {reading.fail_code})"
                )
            await self._stages(reading)
            if reading.state == SUCCEEDED:
                produced = await self.files.produced(reading)
                if not any(a.kind != "text" or a.role == "text" for a, _ in produced):
                    raise EngineDown(f"{self.name}: its task {upstream_id} succeeded with no file")
                return produced
            if time.time() > deadline:
                raise EngineDown(
                    f"{self.name}: its task {upstream_id} did not finish within "
                    f"{self.engine.config.timeout_s:g} s"
                )
            nudged.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(nudged.wait(), wait)
            wait = min(self.engine.config.poll_s, wait * 1.5)

    async def _stages(self, reading: Reading) -> None:
        """A song's lyric sheet, then its first track, recorded as the upstream has them."""
        if self.task.dialect is not Dialect.SUNO or self.stage is None or not reading.tracks:
            return
        if not self._staged:
            ids = [str(item.get("id") or "") for item in reading.tracks]
            await self._patiently(
                lambda: self.store.handoffs.note(self.task.id, self.name, {"tracks": ids})
            )
            if reading.state != SUCCEEDED:
                await self.stage([self.files.sheet(reading)], "text")
            self._staged = "text"
        first = [o for o in reading.outputs if o.index == 0]
        if self._staged == "text" and reading.state != SUCCEEDED and first:
            partial = Reading(reading.state, outputs=tuple(first), tracks=reading.tracks)
            await self.stage(await self.files.produced(partial), "first")
            self._staged = "first"
