"""The worker loop: claim a task with a lease, keep the lease alive, write the outcome once."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from contextlib import AsyncExitStack, suppress
from dataclasses import replace
from pathlib import Path

from reelserve.blobs.base import BlobStore
from reelserve.callbacks.outbox import Outbox
from reelserve.engines.registry import EngineRegistry
from reelserve.settings import Settings
from reelserve.store.store import Store
from reelserve.tasks.models import Result, Task
from reelserve.worker.failures import GENERATION_FAILED, TaskFailure
from reelserve.worker.jobs import plan_task
from reelserve.worker.pipeline import render
from reelserve.worker.produce import Produced, produce

log = logging.getLogger("reelserve.worker")


class Abandoned(Exception):
    """The worker is shutting down and gave this task back; the engine should stop."""


class Progress:
    """Latest progress, written by the render thread and read by the heartbeat.

    Also the way to stop a render early: once `abandon()`ed, the engine's next
    progress report raises `Abandoned` in its thread.
    """

    def __init__(self) -> None:
        self._value = 0.0
        self._lock = threading.Lock()
        self._abandoned = False

    def abandon(self) -> None:
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
        self.current: dict[str, Progress] = {}
        """Tasks being processed now, by id."""

    def wake(self) -> None:
        self._wake.set()

    def wake_for(self, engine: str) -> None:
        """A task for `engine` became runnable ("": anything may have)."""
        if not engine or engine in self.engines:
            self._wake.set()

    def abandon_renders(self) -> None:
        """Make running engines stop at their next progress report (shutdown)."""
        for progress in self.current.values():
            progress.abandon()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self, slots: int = 1) -> None:
        """Claim and process tasks, `slots` at a time, until `stop()`."""
        log.info("worker %s serving engines %s", self.id, sorted(self.engines))
        await self.requeue_orphans()
        await asyncio.gather(*(self._serve() for _ in range(slots)))

    async def _serve(self) -> None:
        while not self._stopping:
            try:
                await self._sweep_exhausted()
                task = await self.store.tasks.claim(
                    self.id, self.engines, self.settings.lease_s, self.settings.max_attempts
                )
            except Exception:
                log.exception("claim failed; retrying")
                task = None
            if task is not None:
                await self.process(task)
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
            if task.attempts >= self.settings.max_attempts:
                await self._fail(task.id, task.lease_token, 500, self._exhausted_msg())
            elif await self.store.tasks.release(task.id, task.lease_token):
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
            self.settings.max_attempts, self._exhausted_msg(), self._delivery_for
        )
        if failed:
            self._on_delivery()
            log.warning("failed %d task(s) that ran out of attempts", failed)

    async def process(self, task: Task) -> None:
        assert task.lease_token is not None
        token = task.lease_token
        progress = Progress()
        self.current[task.id] = progress
        beat = asyncio.create_task(self._heartbeat(task.id, token, progress))
        try:
            result = await self._execute(task, progress)
        except TaskFailure as failure:
            log.info("task %s failed: %s", task.id, failure)
            await self._fail(task.id, token, failure.fail_code, failure.fail_msg)
        except (asyncio.CancelledError, Abandoned) as stopped:
            # Shutting down: hand the task back so the next worker starts it at
            # once; the interrupted attempt does not count against the task.
            await asyncio.shield(self.store.tasks.release(task.id, token, count_attempt=False))
            if isinstance(stopped, asyncio.CancelledError):
                raise
        except Exception:
            log.exception("task %s attempt %d crashed", task.id, task.attempts)
            if task.attempts >= self.settings.max_attempts:
                msg = f"{GENERATION_FAILED}: the engine failed on all {task.attempts} attempts"
                await self._fail(task.id, token, 500, msg)
            else:
                await self.store.tasks.release(task.id, token)
        else:
            if await self.store.tasks.succeed(task.id, token, result, self._delivery_for):
                self._on_delivery()
            else:
                log.warning("task %s: lease lost, result of this attempt discarded", task.id)
                await self.blobs.delete_prefix(f"media/{task.id}/{result.video_id}")
        finally:
            beat.cancel()
            self.current.pop(task.id, None)

    async def _fail(self, task_id: str, token: str, fail_code: int, fail_msg: str) -> None:
        if await self.store.tasks.fail(task_id, token, fail_code, fail_msg, self._delivery_for):
            self._on_delivery()

    async def _execute(self, task: Task, progress: Progress) -> Result:
        engine = await asyncio.to_thread(self.registry.get, task.engine)
        video_id = uuid.uuid4().hex
        # Each attempt writes under its own folder: a stale attempt can never
        # overwrite the files of the attempt whose outcome was recorded.
        folder = f"media/{task.id}/{video_id}"
        with tempfile.TemporaryDirectory(prefix="reelserve-") as tmp:
            if "spec" in task.params:
                produced = await produce(
                    task, engine, self.settings, self.blobs, Path(tmp), progress.set, self._exempt
                )
                return await self._store_artifacts(folder, video_id, produced)
            async with AsyncExitStack() as stack:
                plan = await plan_task(
                    task, self.settings, self.blobs, Path(tmp), stack, self._exempt
                )
                rendered = await asyncio.to_thread(render, plan, engine, progress.set)
            await self.blobs.put_file(f"{folder}/video.mp4", rendered.video, "video/mp4")
            await self.blobs.put_file(f"{folder}/cover.png", rendered.cover, "image/png")
        return Result(
            video_id=video_id,
            video_key=f"{folder}/video.mp4",
            cover_key=f"{folder}/cover.png",
            width=rendered.width,
            height=rendered.height,
            frames=rendered.frames,
            fps=rendered.fps,
        )

    async def _store_artifacts(self, folder: str, video_id: str, produced: Produced) -> Result:
        """Every produced file into the blob store; the result lists them as artifacts."""
        artifacts = []
        for artifact, path in produced:
            key = f"{folder}/{artifact.key}"
            await self.blobs.put_file(key, path, artifact.mime)
            artifacts.append(replace(artifact, key=key))
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

    async def _heartbeat(self, task_id: str, token: str, progress: Progress) -> None:
        interval = max(0.2, min(self.settings.lease_s / 3, 1.0))
        while True:
            await asyncio.sleep(interval)
            try:
                alive = await self.store.tasks.heartbeat(
                    task_id, token, self.settings.lease_s, progress.get()
                )
            except Exception:
                log.exception("heartbeat of %s failed", task_id)
                continue
            if not alive:
                log.warning("task %s: lease lost", task_id)
                return


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
