"""Running an engine in a child process, so a crash or OOM kill cannot take the server down.

The parent (the server's worker) holds an `IsolatedEngine`; the child
(`child_main`) loads a *runner* once and keeps it resident, then generates
one job at a time. Messages go through a pipe; frames never do: inputs and
outputs are `.npy` files in a private temporary directory (production output
is 100+ MB of uint8 per task, which pickling through a pipe would copy twice),
read back memory-mapped, one frame at a time.

If the child dies mid-task (segfault, SIGKILL from the kernel's OOM killer,
`os._exit`), the task fails with a message saying so and a new child starts
loading at once, so the next task finds a live engine (cog's worker does the
same). An `interrupt()` stops a running generation at the next denoising step.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import logging
import multiprocessing
import os
import shutil
import signal
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from reelserve.engines.base import (
    Engine,
    EngineError,
    EngineOutput,
    EngineRequest,
    Frame,
    ProgressFn,
)

log = logging.getLogger("reelserve.engines")

Message = tuple[Any, ...]


class Interrupted(Exception):
    """A generation was stopped by `IsolatedEngine.interrupt()`."""


class EngineInterrupted(EngineError):
    """The running generation was interrupted (a cancel)."""


@dataclass(frozen=True)
class Job:
    """One generation as the child sees it: scalars, plus paths of the frames."""

    operation: str
    prompt: str
    width: int
    height: int
    num_frames: int
    fps: int
    seed: int
    inputs: dict[str, str] = field(default_factory=dict)
    """`image`, `context`, `video`, `reference_image` -> .npy path (uint8 RGB)."""
    output: str = ""

    def frames(self, name: str) -> np.ndarray | None:
        """An input as an array ((H, W, 3) for images, (F, H, W, 3) for videos), memory-mapped."""
        path = self.inputs.get(name)
        return None if path is None else np.load(path, mmap_mode="r")


@dataclass(frozen=True)
class Generated:
    """A runner's result: uint8 frames (F, H, W, 3) at `fps`, and the pipeline's own time."""

    frames: np.ndarray
    fps: float
    pipeline_s: float


class Runner(Protocol):
    """The child-side half of an engine: `load` once, then `generate` per job."""

    def load(self) -> dict[str, Any]: ...

    def generate(
        self, job: Job, progress: Callable[[float], None], stopped: Callable[[], bool]
    ) -> Generated: ...


def load_target(target: str) -> Callable[..., Any]:
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)  # type: ignore[no-any-return]


def child_main(conn: Connection, target: str, config: object, interrupt: Any) -> None:
    """The child process: load the runner once, then serve jobs until told to stop."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    _exit_with_parent()
    started = time.perf_counter()
    try:
        runner: Runner = load_target(target)(config)
        info = runner.load()
    except BaseException as exc:
        conn.send(("load_failed", f"{type(exc).__name__}: {exc}"))
        return
    info.update(pid=os.getpid(), load_s=time.perf_counter() - started)
    conn.send(("ready", info))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message[0] != "run":
            return
        job: Job = message[1]
        try:
            result = runner.generate(job, lambda f: conn.send(("progress", f)), interrupt.is_set)
            frames = np.ascontiguousarray(result.frames, dtype=np.uint8)
            np.save(job.output, frames)
            conn.send(("done", tuple(frames.shape), result.fps, result.pipeline_s))
        except Interrupted:
            conn.send(("interrupted",))
        except EngineError as exc:
            conn.send(("error", str(exc), exc.fail_code))
        except Exception as exc:
            conn.send(("error", f"{type(exc).__name__}: {exc}", 500))


def _exit_with_parent() -> None:
    """Die with the parent even when busy: a watchdog polls the parent's pid."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, daemon=True, name="parent-watchdog").start()


def death_reason(exitcode: int | None) -> str:
    """Why a child ended, in words a client can act on."""
    if exitcode is None:
        return "the engine process stopped responding"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = " (the host may have run out of memory)" if -exitcode == signal.SIGKILL else ""
        return f"the engine process was killed by {name}{hint}"
    return f"the engine process exited with code {exitcode}"


@dataclass
class EngineStats:
    """What the parent knows of its child: for tests, `engines check` and bench."""

    pid: int | None = None
    starts: int = 0
    """Children started (1 + restarts); each loads the model once."""
    runs: int = 0
    progress: float = 0.0
    """Of the task running now (or the last one)."""
    last_load_s: float = 0.0
    last_pipeline_s: float = 0.0
    total_pipeline_s: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)
    """What the runner reported after loading (device, dtype, load count...)."""


class IsolatedEngine(Engine):
    """An engine whose runner lives in a child process (see module docstring).

    Subclasses set `name`, `capabilities`, and pass the runner's import path
    (`package.module:Class`, built in the child with `config`).
    """

    def __init__(self, target: str, config: object) -> None:
        self._target = target
        self._config = config
        self._ctx = multiprocessing.get_context("spawn")
        self._interrupt = self._ctx.Event()
        self._lock = threading.Lock()
        self._process: Any = None
        self._conn: Connection | None = None
        self._ready = False
        self._tmp = Path(tempfile.mkdtemp(prefix=f"reelserve-{self.name}-"))
        self._closed = False
        self.stats = EngineStats()
        _live.add(self)

    # -- lifecycle -----------------------------------------------------------
    def setup(self) -> None:
        """Start the child and wait until the model is loaded (raises if it cannot load)."""
        with self._lock:
            self._ensure_ready()

    def close(self) -> None:
        """Stop the child; a running generation is interrupted first (at shutdown)."""
        self._closed = True
        self._interrupt.set()
        # A run stops at its next denoising step; do not wait for a long one.
        locked = self._lock.acquire(timeout=10)
        try:
            self._stop_child()
        finally:
            if locked:
                self._lock.release()
        shutil.rmtree(self._tmp, ignore_errors=True)

    def interrupt(self) -> None:
        """Stop the running generation at its next denoising step (a cancel hook)."""
        self._interrupt.set()

    def _start_child(self) -> None:
        parent_conn, child_conn = self._ctx.Pipe()
        process = self._ctx.Process(
            target=child_main,
            args=(child_conn, self._target, self._config, self._interrupt),
            name=f"reelserve-engine-{self.name}",
            # Not daemonic: torch.compile starts worker processes of its own.
            daemon=False,
        )
        process.start()
        child_conn.close()
        self._process, self._conn, self._ready = process, parent_conn, False
        self.stats.starts += 1
        self.stats.pid = process.pid
        log.info("engine %s: child %s started, loading", self.name, process.pid)

    def _ensure_ready(self) -> None:
        if self._closed:
            raise EngineError(f"engine {self.name} is closed")
        if self._process is None or not self._process.is_alive():
            self._start_child()
        if self._ready:
            return
        while True:
            message = self._receive()
            if message[0] == "ready":
                self._ready = True
                self.stats.info = dict(message[1])
                self.stats.last_load_s = float(message[1]["load_s"])
                log.info("engine %s loaded in %.1f s", self.name, self.stats.last_load_s)
                return
            if message[0] == "load_failed":
                self._stop_child()
                raise EngineError(f"engine {self.name} could not load its model: {message[1]}")

    def _stop_child(self) -> None:
        process, conn = self._process, self._conn
        self._process, self._conn, self._ready = None, None, False
        if conn is not None:
            with contextlib.suppress(OSError, ValueError):
                conn.send(("stop",))
            conn.close()
        if process is not None:
            process.join(5)
            if process.is_alive():
                process.kill()
                process.join(5)

    def _receive(self) -> Message:
        """The child's next message; raises EngineError (and restarts it) if it died."""
        conn, process = self._conn, self._process
        while True:
            if self._closed or conn is None or process is None:
                raise EngineError("the engine was shut down")
            try:
                if conn.poll(0.05):
                    return tuple(conn.recv())
            except (EOFError, OSError):
                pass
            else:
                if process.is_alive():
                    continue
                # A last message may have been sent just before the end.
                with contextlib.suppress(EOFError, OSError):
                    if conn.poll(0):
                        return tuple(conn.recv())
            if self._closed:
                raise EngineError("the engine was shut down")
            process.join(1)
            if process.is_alive():
                process.kill()
                process.join(5)
            reason = death_reason(process.exitcode)
            log.error("engine %s: %s; restarting it", self.name, reason)
            self._process = None
            with contextlib.suppress(OSError):
                conn.close()
            self._start_child()
            raise EngineError(f"{reason}; the task was lost and the engine is restarting")

    # -- one task --------------------------------------------------------------
    def run(self, request: EngineRequest, progress: ProgressFn) -> EngineOutput:
        job, job_dir, shape, fps = self._execute(lambda d: self._job(request, d), progress)
        count, height, width = int(shape[0]), int(shape[1]), int(shape[2])
        return EngineOutput(read_frames(Path(job.output), job_dir), count, width, height, fps)

    def _execute(
        self, make_job: Callable[[Path], Job], progress: ProgressFn
    ) -> tuple[Job, Path, tuple[int, ...], float]:
        """Run one job in the child: the job, its directory (the caller removes it), the
        output's shape and fps. The directory goes at once when the job fails."""
        with self._lock:
            self._ensure_ready()
            job_dir = Path(tempfile.mkdtemp(dir=self._tmp, prefix="job-"))
            try:
                job = make_job(job_dir)
                self._interrupt.clear()
                self.stats.progress = 0.0
                assert self._conn is not None
                self._conn.send(("run", job))
                try:
                    shape, fps, pipeline_s = self._await_result(progress)
                except EngineError:
                    raise
                except BaseException:
                    # The caller's progress callback raised (a cancel, a shutdown): the
                    # child is still on this job. Stop it and read its last message, or
                    # the next job would take that "interrupted"/"done" for its own.
                    self._finish_abandoned_job()
                    raise
            except BaseException:
                shutil.rmtree(job_dir, ignore_errors=True)
                raise
        self.stats.runs += 1
        self.stats.last_pipeline_s = pipeline_s
        self.stats.total_pipeline_s += pipeline_s
        return job, job_dir, shape, fps

    def _finish_abandoned_job(self) -> None:
        """Interrupt the child's current job and wait for its end (its last message)."""
        self._interrupt.set()
        with contextlib.suppress(EngineError):  # died meanwhile: _receive restarted it
            while self._receive()[0] not in ("done", "interrupted", "error"):
                pass

    def _await_result(self, progress: ProgressFn) -> tuple[tuple[int, ...], float, float]:
        while True:
            message = self._receive()
            kind = message[0]
            if kind == "progress":
                self.stats.progress = float(message[1])
                progress(self.stats.progress)
            elif kind == "done":
                return tuple(message[1]), float(message[2]), float(message[3])
            elif kind == "interrupted":
                raise EngineInterrupted("the generation was interrupted")
            elif kind == "error":
                raise EngineError(str(message[1]), int(message[2]))

    def _job(self, request: EngineRequest, job_dir: Path) -> Job:
        inputs: dict[str, str] = {}
        arrays: dict[str, Frame | list[Frame] | None] = {
            "image": request.image,
            "context": request.context,
            "video": request.video,
            "reference_image": request.reference_image,
        }
        for name, value in arrays.items():
            if value is None or (isinstance(value, list) and not value):
                continue
            path = job_dir / f"{name}.npy"
            data = np.stack(value) if isinstance(value, list) else value
            np.save(path, np.ascontiguousarray(data, dtype=np.uint8))
            inputs[name] = str(path)
        return Job(
            operation=request.operation.value,
            prompt=request.prompt,
            width=request.width,
            height=request.height,
            num_frames=request.num_frames,
            fps=request.fps,
            seed=request.seed,
            inputs=inputs,
            output=str(job_dir / "output.npy"),
        )


def read_frames(path: Path, job_dir: Path) -> Iterator[Frame]:
    """The child's output, one frame at a time; the job's files go when it is consumed."""
    try:
        frames = np.load(path, mmap_mode="r")
        for i in range(frames.shape[0]):
            yield np.array(frames[i])
        del frames
    finally:
        shutil.rmtree(job_dir, ignore_errors=True)


_live: weakref.WeakSet[IsolatedEngine] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    # Registered after multiprocessing's own exit hook, so it runs first: the
    # children are told to stop before multiprocessing waits for them.
    for engine in list(_live):
        with contextlib.suppress(Exception):
            engine.close()
