"""The worker loop: claim a task with a lease, keep the lease alive, write the outcome once.

Outages (docs/operations.md) never end the loop nor spend an engine attempt:

- the database: an outcome write is retried with backoff while the task's
  lease lasts. One that cannot be written by then is left to the lease
  expiry (the task runs again); its media is deleted once the database says
  the result was not recorded (`_settle_unrecorded`);
- media storage: a failed read of the inputs or write of the result is
  retried for `REELSERVE_STORAGE_RETRY_S` while the heartbeat keeps the lease,
  the rendered files kept, so the engine does not run again; after the window
  the task fails with failCode 500, "could not store the result: ...";
- anything else one task raises is logged once with its id; the loop goes on.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AsyncExitStack, suppress
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

from reelserve.blobs.base import BlobStore, BlobUnavailable
from reelserve.callbacks.outbox import Outbox
from reelserve.engines.base import Engine, Kind
from reelserve.engines.registry import EngineRegistry
from reelserve.errors import DatabaseUnavailable
from reelserve.families.suno.views import stage_of
from reelserve.observability import metrics
from reelserve.observability.logs import task_context
from reelserve.observability.timing import attempt_clock, engine_wait
from reelserve.retry import backoff, patiently
from reelserve.settings import Settings
from reelserve.store.attempts import AttemptRecord
from reelserve.store.store import Store
from reelserve.tasks.models import Artifact, Dialect, Result, Task
from reelserve.upstream.engine import UpstreamEngine
from reelserve.upstream.follow import Follower, Nudges
from reelserve.worker.failures import GENERATION_FAILED, EngineDown, TaskFailure
from reelserve.worker.inputs import load_inputs
from reelserve.worker.jobs import plan_task
from reelserve.worker.music import Stage, produce_music
from reelserve.worker.patience import (
    READ_FAILED,
    STORE_FAILED,
    Abandoned,
    Lease,
    LeaseLost,
    record,
    with_storage,
)
from reelserve.worker.pipeline import render
from reelserve.worker.produce import Produced, produce

log = logging.getLogger("reelserve.worker")

T = TypeVar("T")


class Progress:
    """Latest progress, written by the render thread and read by the heartbeat.

    Also the way to stop a render early: once `abandon()`ed, the engine's next
    progress report raises `Abandoned` in its thread.
    """

    def __init__(self) -> None:
        self._value = 0.0
        self._lock = threading.Lock()
        self._abandoned = False
        self.cancelled = False
        """Asked to stop by a cancel (not a shutdown): the task ends canceled."""
        self.outcome = ""
        self.error = ""
        """How the attempt ended, for its line in the attempt log (store/attempts.py)."""

    def ended(self, outcome: str, error: str = "") -> None:
        self.outcome, self.error = outcome, error

    def abandon(self) -> None:
        self._abandoned = True

    def cancel(self) -> None:
        self.cancelled = True
        self._abandoned = True

    def set(self, value: float) -> None:
        if self._abandoned:
            raise Abandoned()
        with self._lock:
            self._value = max(self._value, value)

    def get(self) -> float:
        with self._lock:
            return self._value


class Worker:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        blobs: BlobStore,
        registry: EngineRegistry,
        engines: set[str] | None = None,
        *,
        outbox: Outbox | None = None,
        on_delivery: Callable[[], None] = lambda: None,
        exempt: Iterable[tuple[str, int]] = (),
    ) -> None:
        self._exempt = tuple(exempt)
        self.settings = settings
        self.store = store
        self.blobs = blobs
        self.registry = registry
        self._delivery_for = outbox.delivery_for if outbox is not None else None
        self._on_delivery = on_delivery
        self.engines = engines or configured_engines(settings)
        self.id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._wake = asyncio.Event()
        self._stopping = False
        self._last_sweep = 0.0
        self._running = 0
        self._settling: set[asyncio.Task[None]] = set()
        self.current: dict[str, Progress] = {}
        """Tasks being processed now, by id."""
        self._running_on: dict[str, Engine] = {}
        self.nudges = Nudges()
        """Upstream callbacks that arrived (upstream/routes.py) wake their task's follower."""
        self.caps = {config.engine: config.concurrency for config in settings.upstreams.values()}
        """Tasks an engine may run at once (an upstream's concurrency), by engine."""
        self._loading: asyncio.Future[None] | None = None
        self.engine_errors: dict[str, str] = {}
        """Engines whose set-up failed, with why (readiness: `/readyz`)."""

    @property
    def alive(self) -> bool:
        """True while `run()` is serving (its heartbeat row may say `alive`)."""
        return self._running > 0

    def wake(self) -> None:
        self._wake.set()

    def wake_for(self, engine: str) -> None:
        """A task for `engine` became runnable ("": anything may have)."""
        if not engine or engine in self.engines:
            self._wake.set()

    def cancel(self, task_id: str) -> None:
        """Stop a task this worker runs because it was cancelled: its engine's next progress
        report raises, and an engine with an interrupt hook (a child-process pipeline)
        stops at its next step. The attempt then ends the task as canceled."""
        progress = self.current.get(task_id)
        if progress is None or progress.cancelled:
            return
        log.info("task %s: cancel requested; stopping its engine", task_id)
        progress.cancel()
        interrupt = getattr(self._running_on.get(task_id), "interrupt", None)
        if callable(interrupt):
            interrupt()

    def abandon_renders(self) -> None:
        """Make running engines stop at their next progress report (shutdown)."""
        for progress in self.current.values():
            progress.abandon()

    @property
    def stopping(self) -> bool:
        return self._stopping

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    def load_engines(self) -> asyncio.Future[None]:
        """Set up every engine this worker serves, in the background (at start, so the
        first task does not wait for it, and readiness can say when they are loaded). A
        call after a failed set-up tries the failed engines again."""
        if self._loading is None or (self._loading.done() and self.engine_errors):
            self._loading = asyncio.ensure_future(self._load_engines())
        return self._loading

    async def _load_engines(self) -> None:
        for name in sorted(self.engines):
            if self.registry.loaded(name) is not None:
                continue
            try:
                await asyncio.to_thread(self.registry.get, name)
            except Exception as exc:
                self.engine_errors[name] = f"{type(exc).__name__}: {exc}"
                log.error("engine %s could not be set up: %s", name, exc)
            else:
                self.engine_errors.pop(name, None)

    async def run(self, slots: int = 1) -> None:
        """Claim and process tasks, `slots` at a time, until `stop()`."""
        log.info("worker %s serving engines %s", self.id, sorted(self.engines))
        self.load_engines()
        await self.requeue_orphans()
        self._running += 1
        try:
            await asyncio.gather(*(self._slot() for _ in range(slots)))
        finally:
            self._running -= 1

    async def _slot(self) -> None:
        """One task slot; a crash of the loop itself (a bug) restarts it, after a pause."""
        crashes = 0
        while not self._stopping:
            try:
                await self._serve()
            except Exception:
                crashes += 1
                log.exception("worker %s: a task slot crashed; restarting it", self.id)
                await asyncio.sleep(backoff(crashes, base_s=1.0, cap_s=30.0))

    async def _serve(self) -> None:
        outage = 0
        while not self._stopping:
            try:
                await self._sweep_exhausted()
                task = await self.store.tasks.claim(
                    self.id,
                    self.engines,
                    self.settings.lease_s,
                    self.settings.max_attempts,
                    self.caps,
                )
                outage = 0
            except DatabaseUnavailable:
                # The store logs the outage once; wait a little longer each time.
                outage += 1
                await asyncio.sleep(backoff(outage, cap_s=self.settings.worker_poll_s * 2))
                continue
            except Exception:
                log.exception("claim failed; retrying")
                task = None
            if task is not None:
                try:
                    await self.process(task)
                except Exception:
                    # A bug, not an outage (those are handled inside): this task's lease
                    # lapses and it runs again; the worker goes on with the next one.
                    log.exception("task %s: processing failed; the worker goes on", task.id)
                continue
            self._wake.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.worker_poll_s)

    async def requeue_orphans(self) -> int:
        """Re-queue tasks that a dead process on this host left running.

        Their leases would expire anyway; this just spares the wait after a
        restart. A task counts as orphaned when the process that held it is
        gone, or is this very pid (a restarted container often reuses it).
        """
        host = socket.gethostname()
        count = 0
        for task in await self.store.tasks.held_by(f"{host}:"):
            pid_text = (task.worker_id or "").split(":")[1:2]
            pid = int(pid_text[0]) if pid_text and pid_text[0].isdigit() else -1
            if task.lease_token is None or (pid != os.getpid() and _pid_alive(pid)):
                continue
            lease = Lease(self.settings.lease_s)
            if task.attempts >= self.settings.max_attempts:
                await self._fail(task, task.lease_token, 500, self._exhausted_msg(), lease)
            elif await record(task.id, "its release", lease, self._release(task)):
                count += 1
        if count:
            log.warning("re-queued %d task(s) left running by a dead process", count)
        return count

    def _exhausted_msg(self) -> str:
        return (
            f"{GENERATION_FAILED}: the task was interrupted on all "
            f"{self.settings.max_attempts} attempts (its worker stopped responding)"
        )

    async def _sweep_exhausted(self) -> None:
        now = time.monotonic()
        if now - self._last_sweep < self.settings.lease_s / 3:
            return
        self._last_sweep = now
        failed = await self.store.tasks.fail_exhausted(
            self.settings.max_attempts, self._exhausted_msg(), self._delivery_for, metrics.finished
        )
        if failed:
            self._on_delivery()
            log.warning("failed %d task(s) that ran out of attempts", failed)

    async def process(self, task: Task) -> None:
        assert task.lease_token is not None
        model = metrics.model_of(task.params)
        with task_context(task.id, task.dialect.value, model, task.engine, task.api_key_id):
            metrics.claimed(task)
            started = time.monotonic()
            with attempt_clock() as clock:
                await self._process(task, task.lease_token)
            took = time.monotonic() - started
            metrics.attempt_timed(task.engine, took, clock.engine_s)
            log.info(
                "task %s: attempt %d took %.2f s (engine %.2f s)",
                task.id,
                task.attempts,
                took,
                clock.engine_s,
            )

    async def _process(self, task: Task, token: str) -> None:
        lease = Lease(self.settings.lease_s)
        progress = Progress()
        self.current[task.id] = progress
        beat = asyncio.create_task(self._heartbeat(task.id, token, progress, lease))
        started = time.time()
        try:
            await self._attempt(task, token, progress, lease)
        finally:
            beat.cancel()
            self.current.pop(task.id, None)
            self._running_on.pop(task.id, None)
            self._keep(self._note_attempt(task, started, progress))

    async def _note_attempt(self, task: Task, started: float, progress: Progress) -> None:
        record = AttemptRecord(
            task.id,
            task.attempts,
            task.engine,
            self.id,
            started,
            time.time(),
            progress.outcome or "given_back",
            progress.error,
        )
        try:
            await self.store.attempts.add(record)
        except Exception as exc:  # history only: the task's row holds its outcome
            log.warning("task %s: attempt %d not logged (%s)", task.id, task.attempts, exc)

    async def _attempt(self, task: Task, token: str, progress: Progress, lease: Lease) -> None:
        try:
            result = await self._execute(task, progress, lease)
        except asyncio.CancelledError:
            progress.ended("given_back", "the worker stopped")
            await self._give_back(task, token)
            raise
        except Exception as exc:
            if progress.cancelled:
                # Whatever the engine raised on its way out (Abandoned, an interrupted
                # pipeline), the attempt's files go and the task ends canceled.
                log.info("task %s: cancelled (%s)", task.id, type(exc).__name__)
                progress.ended("canceled")
                await self._cancelled(task, token, lease)
            else:
                await self._unsuccessful(task, token, lease, exc, progress)
        else:
            progress.ended("canceled" if progress.cancelled else "succeeded")
            if progress.cancelled:  # it ended before it could stop: still cancelled
                await self._discard(task.id, result)
                await self._cancelled(task, token, lease)
            else:
                await self._succeed(task, token, result, lease)

    async def _unsuccessful(
        self, task: Task, token: str, lease: Lease, error: Exception, progress: Progress
    ) -> None:
        if isinstance(error, TaskFailure):
            log.info("task %s failed: %s", task.id, error)
            progress.ended("failed", str(error))
            await self._fail(task, token, error.fail_code, error.fail_msg, lease)
        elif isinstance(error, EngineDown):
            progress.ended("fell_back", str(error))
            await self._fall_back(task, token, str(error), lease)
        elif isinstance(error, LeaseLost):
            progress.ended("lease_lost", "the lease lapsed while storage was down")
            log.warning("task %s: lease lost while waiting for storage; attempt dropped", task.id)
        elif isinstance(error, Abandoned):
            progress.ended("given_back", "the worker stopped")
            await self._give_back(task, token)
        else:
            log.error("task %s attempt %d crashed", task.id, task.attempts, exc_info=error)
            progress.ended("crashed", f"{type(error).__name__}: {error}")
            if task.attempts >= self.settings.max_attempts:
                reason = f"the engine failed on all {task.attempts} attempts"
                await self._fall_back(task, token, reason, lease)
            else:
                await record(task.id, "its release", lease, self._release(task, token))

    async def _give_back(self, task: Task, token: str) -> None:
        """Shutting down: hand the task back so the next worker starts it at once; the
        interrupted attempt does not count against the task."""
        try:
            await asyncio.shield(self.store.tasks.release(task.id, token, count_attempt=False))
        except DatabaseUnavailable:
            log.warning("task %s: not given back (database unavailable); lease lapses", task.id)

    async def _cancelled(self, task: Task, token: str, lease: Lease) -> None:
        engine = self._running_on.get(task.id)
        if isinstance(engine, UpstreamEngine):
            handoff = await self.store.handoffs.get(task.id, engine.engine)
            if handoff is not None and handoff.accepted:
                await engine.client.cancel(str(handoff.upstream_id))
        try:
            await self.blobs.delete_prefix(f"media/{task.id}")
        except BlobUnavailable as exc:
            log.warning("task %s: partial outputs of a cancelled task left (%s)", task.id, exc)
        written = await record(
            task.id,
            "its cancellation",
            lease,
            lambda: self.store.tasks.canceled(task.id, token, self._delivery_for),
        )
        if written:
            metrics.finished(task, "canceled")
            self._on_delivery()

    async def _fall_back(self, task: Task, token: str, reason: str, lease: Lease) -> None:
        """The next engine of the task's route takes it (queued again, a full attempt
        budget); with none left, the task fails with `reason` (refunded)."""
        fallbacks = [str(e) for e in task.params.get("fallbacks") or []]
        if not fallbacks:
            log.warning("task %s: %s; no fallback engine, the task fails", task.id, reason)
            await self._fail(task, token, 500, f"{GENERATION_FAILED}: {reason}", lease)
            return
        engine, rest = fallbacks[0], fallbacks[1:]
        tried = [*task.params.get("tried", []), {"engine": task.engine, "reason": reason}]
        params = {**task.params, "fallbacks": rest, "tried": tried}
        log.warning("task %s: %s; falling back to %s", task.id, reason, engine)
        written = await record(
            task.id,
            "its fallback",
            lease,
            lambda: self.store.tasks.reroute(task.id, token, engine, params),
        )
        if written:
            self.wake_for(engine)

    def _release(self, task: Task, token: str | None = None) -> Callable[[], Awaitable[bool]]:
        lease_token = token or task.lease_token or ""
        return lambda: self.store.tasks.release(task.id, lease_token)

    async def _succeed(self, task: Task, token: str, result: Result, lease: Lease) -> None:
        tries = 0

        async def write() -> bool:
            nonlocal tries
            tries += 1
            return await self.store.tasks.succeed(task.id, token, result, self._delivery_for)

        written = await record(task.id, "its result", lease, write)
        if written is False and tries > 1:
            # A commit whose answer was lost looks like a lost lease when retried.
            try:
                written = await patiently(
                    lambda: self._is_recorded(task.id, result), deadline=lambda: lease.expires_at
                )
            except DatabaseUnavailable:
                written = None
        if written:
            metrics.finished(task, "succeeded")
            self._on_delivery()
        elif written is False:
            log.warning("task %s: lease lost, result of this attempt discarded", task.id)
            await self._discard(task.id, result)
        else:
            self._keep(self._settle_unrecorded(task, result))

    async def _is_recorded(self, task_id: str, result: Result) -> bool:
        current = await self.store.tasks.get(task_id, fresh=True)
        return bool(current and current.result and current.result.video_id == result.video_id)

    async def _discard(self, task_id: str, result: Result) -> None:
        try:
            await self.blobs.delete_prefix(f"media/{task_id}/{result.video_id}")
        except BlobUnavailable as exc:
            # Retention deletes everything under media/<task> with the task's media.
            log.warning("task %s: media of a dropped attempt left in storage (%s)", task_id, exc)

    async def _settle_unrecorded(self, task: Task, result: Result) -> None:
        """Once the database answers: delete this attempt's media unless it was recorded
        after all (a commit whose answer was lost)."""
        task_id = task.id
        try:
            recorded = await patiently(
                lambda: self._is_recorded(task_id, result),
                deadline=lambda: time.monotonic() + 1,
                give_up=lambda: self._stopping,
                cap_s=10.0,
            )
        except DatabaseUnavailable:
            return  # stopping: retention deletes the media with the task's
        if recorded:
            metrics.finished(task, "succeeded")
            self._on_delivery()
        else:
            await self._discard(task_id, result)

    def _keep(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._settling.add(task)
        task.add_done_callback(self._settling.discard)

    async def _fail(
        self, task: Task, token: str, fail_code: int, fail_msg: str, lease: Lease
    ) -> None:
        written = await record(
            task.id,
            "its failure",
            lease,
            lambda: self.store.tasks.fail(task.id, token, fail_code, fail_msg, self._delivery_for),
        )
        if written:
            metrics.finished(task, "failed")
            self._on_delivery()

    def _storage(
        self, task_id: str, lease: Lease, failure: str, op: Callable[[], Awaitable[T]]
    ) -> Awaitable[T]:
        return with_storage(
            task_id,
            lease,
            failure,
            op,
            window_s=self.settings.storage_retry_s,
            stopping=lambda: self._stopping,
        )

    async def _execute(self, task: Task, progress: Progress, lease: Lease) -> Result:
        engine = await asyncio.to_thread(self.registry.get, task.engine)
        self._running_on[task.id] = engine
        if progress.cancelled:  # cancelled while its engine loaded
            raise Abandoned()
        video_id = uuid.uuid4().hex
        # Each attempt writes under its own folder: a stale attempt can never
        # overwrite the files of the attempt whose outcome was recorded.
        folder = f"media/{task.id}/{video_id}"
        with tempfile.TemporaryDirectory(prefix="reelserve-") as tmp:
            if isinstance(engine, UpstreamEngine):
                stored: dict[str, Artifact] = {}
                follower = Follower(
                    task,
                    engine,
                    settings=self.settings,
                    store=self.store,
                    blobs=self.blobs,
                    tmp=Path(tmp),
                    lease=lease,
                    progress=progress.set,
                    stage=(
                        self._stager(task, lease, folder, video_id, stored)
                        if task.dialect is Dialect.SUNO
                        else None
                    ),
                    nudges=self.nudges,
                )
                produced = await engine_wait(follower.run())
                return await self._store_artifacts(task, lease, folder, video_id, produced, stored)
            if "spec" in task.params:
                sources = list(task.params.get("sources") or [])
                inputs = await self._storage(
                    task.id,
                    lease,
                    READ_FAILED,
                    lambda: load_inputs(
                        sources, self.settings, self.blobs, Path(tmp), self._exempt
                    ),
                )
                stored = {}
                if (task.params.get("spec") or {}).get("kind") == Kind.MUSIC.value:
                    stage = self._stager(task, lease, folder, video_id, stored)
                    produced = await produce_music(
                        task, engine, inputs, Path(tmp), progress.set, stage
                    )
                else:
                    produced = await produce(
                        task, engine, inputs, Path(tmp), progress.set, self.settings.x264_preset
                    )
                return await self._store_artifacts(task, lease, folder, video_id, produced, stored)
            async with AsyncExitStack() as stack:
                plan = await self._storage(
                    task.id,
                    lease,
                    READ_FAILED,
                    lambda: plan_task(
                        task, self.settings, self.blobs, Path(tmp), stack, self._exempt
                    ),
                )
                rendered = await asyncio.to_thread(render, plan, engine, progress.set)
            # The rendered files stay in `tmp` while storage is retried: no new render.
            await self._storage(
                task.id,
                lease,
                STORE_FAILED,
                lambda: self.blobs.put_file(f"{folder}/video.mp4", rendered.video, "video/mp4"),
            )
            await self._storage(
                task.id,
                lease,
                STORE_FAILED,
                lambda: self.blobs.put_file(f"{folder}/cover.png", rendered.cover, "image/png"),
            )
        return Result(
            video_id=video_id,
            video_key=f"{folder}/video.mp4",
            cover_key=f"{folder}/cover.png",
            width=rendered.width,
            height=rendered.height,
            frames=rendered.frames,
            fps=rendered.fps,
        )

    async def _store_artifacts(
        self,
        task: Task,
        lease: Lease,
        folder: str,
        video_id: str,
        produced: Produced,
        stored: dict[str, Artifact] | None = None,
    ) -> Result:
        """Every produced file into the blob store; the result lists them as artifacts.

        The files stay in the task's temporary folder while storage is retried:
        an outage never makes the engine run again. `stored` holds the files a
        stage stored already (by file name), which are not stored twice.
        """
        artifacts = []
        stored = {} if stored is None else stored
        for artifact, path in produced:
            if artifact.key not in stored:
                key = f"{folder}/{artifact.key}"
                await self._storage(
                    task.id,
                    lease,
                    STORE_FAILED,
                    functools.partial(self.blobs.put_file, key, path, artifact.mime),
                )
                stored[artifact.key] = replace(artifact, key=key)
            artifacts.append(stored[artifact.key])
        video = next((a for a in artifacts if a.role == "video"), None)
        cover = next((a for a in artifacts if a.role == "cover"), None)
        if video is None or cover is None:
            return Result(video_id=video_id, artifacts=tuple(artifacts))
        return Result(
            video_id=video_id,
            video_key=video.key,
            cover_key=cover.key,
            width=video.width,
            height=video.height,
            frames=round(video.duration * 24),
            fps=24,
            artifacts=tuple(artifacts),
        )

    def _stager(
        self, task: Task, lease: Lease, folder: str, video_id: str, stored: dict[str, Artifact]
    ) -> Stage:
        """Records a song's stages (`worker/music.py`): its files stored, its partial
        result written and, in the same transaction, that stage's callback.

        A stage an earlier attempt of the task already recorded sends no second callback.
        """
        token = task.lease_token or ""
        done = _STAGE_ORDER.get(stage_of(task), 0) if task.result is not None else 0

        async def stage(files: Produced, name: str) -> None:
            result = await self._store_artifacts(task, lease, folder, video_id, files, stored)
            deliver = self._delivery_for if _STAGE_ORDER[name] > done else None
            written = await record(
                task.id,
                f"its {name} stage",
                lease,
                lambda: self.store.tasks.stage(task.id, token, result, deliver),
            )
            if written is False:
                raise LeaseLost()
            if written and deliver is not None:
                self._on_delivery()

        return stage

    async def _heartbeat(self, task_id: str, token: str, progress: Progress, lease: Lease) -> None:
        interval = max(0.2, min(self.settings.lease_s / 3, 1.0))
        while True:
            await asyncio.sleep(interval)
            sent_at = time.monotonic()
            try:
                alive = await self.store.tasks.heartbeat(
                    task_id, token, self.settings.lease_s, progress.get()
                )
            except DatabaseUnavailable:
                continue  # logged once per outage by the store; the lease runs down meanwhile
            except Exception:
                log.exception("heartbeat of %s failed", task_id)
                continue
            if not alive:
                log.warning("task %s: lease lost", task_id)
                lease.lost = True
                return
            lease.renewed(sent_at)
            if alive.cancel:
                self.cancel(task_id)


_STAGE_ORDER = {"": 0, "text": 1, "first": 2, "complete": 3}


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def configured_engines(settings: Settings) -> set[str]:
    """Every engine the routes name (`REELSERVE_ROUTES`, `REELSERVE_ENGINES`)."""
    return settings.routed_engines()
