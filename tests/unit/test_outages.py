"""Outage handling, table-driven: which errors are outages, the backoff, the retry helper,
the one-line-per-outage log, the worker's presence heartbeat and its supervisor."""

from __future__ import annotations

import asyncio
import errno
import logging
import sqlite3
import time
from typing import Any

import pytest
from sqlalchemy import exc as sa_exc

from reelserve.errors import DatabaseUnavailable, DependencyUnavailable
from reelserve.outages import Outage
from reelserve.retry import backoff, patiently
from reelserve.store import postgres, sqlite
from reelserve.worker.node import keep_present, supervise


def _sqlite_error(message: str, code: int | None) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError(message)
    if code is not None:
        error.sqlite_errorcode = code  # type: ignore[attr-defined]
    return error


def _wrapped(orig: BaseException) -> sa_exc.OperationalError:
    return sa_exc.OperationalError("UPDATE tasks ...", {}, orig)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        (_wrapped(_sqlite_error("database or disk is full", 13)), True),
        (_wrapped(_sqlite_error("disk I/O error", 10)), True),
        (_wrapped(_sqlite_error("disk I/O error", 10 | (3 << 8))), True),  # SQLITE_IOERR_WRITE
        (_wrapped(_sqlite_error("attempt to write a readonly database", 8)), True),
        (_wrapped(_sqlite_error("unable to open database file", 14)), True),
        (_wrapped(_sqlite_error("database is locked", 5)), True),
        (_wrapped(_sqlite_error("database or disk is full", None)), True),  # by its text
        (_wrapped(_sqlite_error("no such table: tasks", 1)), False),  # a bug
        (_wrapped(sqlite3.IntegrityError("UNIQUE constraint failed")), False),
        (OSError(errno.ENOSPC, "No space left on device"), True),
        (ValueError("bad value"), False),
    ],
)
def test_sqlite_errors_that_pass_once_the_operator_acts_are_outages(
    error: BaseException, outage: bool
) -> None:
    assert (sqlite.unavailable(error) is not None) is outage


class _PgError(Exception):
    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


class InterfaceError(Exception):  # named as asyncpg's is
    pass


def _invalidated() -> sa_exc.DBAPIError:
    error = sa_exc.DBAPIError("SELECT 1", {}, Exception("closed"))  # type: ignore[arg-type]
    error.connection_invalidated = True
    return error


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        (ConnectionRefusedError(111, "Connect call failed"), True),
        (TimeoutError(), True),
        (_invalidated(), True),
        (sa_exc.TimeoutError("QueuePool limit reached"), True),
        (_PgError("the database system is shutting down", "57P03"), True),
        (_PgError("terminating connection due to administrator command", "57P01"), True),
        (_PgError("connection does not exist", "08003"), True),
        (_PgError("could not extend file: No space left on device", "53100"), True),
        (_PgError("sorry, too many clients already", "53300"), True),
        (_wrapped(_PgError("the database system is starting up", "57P03")), True),
        (InterfaceError("cannot call Connection.fetch(): connection is closed"), True),
        (InterfaceError("another operation is in progress"), False),
        (_PgError("duplicate key value violates unique constraint", "23505"), False),
        (_PgError("canceling statement due to statement timeout", "57014"), False),
        (_PgError("syntax error", "42601"), False),
        (RuntimeError("a bug"), False),
    ],
)
def test_postgres_errors_of_a_lost_or_refused_connection_are_outages(
    error: BaseException, outage: bool
) -> None:
    assert (postgres.unavailable(error) is not None) is outage


@pytest.mark.parametrize(
    ("attempt", "base", "cap", "delay"),
    [(1, 0.25, 5.0, 0.25), (2, 0.25, 5.0, 0.5), (3, 0.25, 5.0, 1.0), (6, 0.25, 5.0, 5.0),
     (60, 0.25, 5.0, 5.0), (1, 1.0, 30.0, 1.0), (5, 1.0, 30.0, 16.0), (9, 1.0, 30.0, 30.0)],
)  # fmt: skip
def test_backoff_doubles_from_its_base_up_to_its_cap(
    attempt: int, base: float, cap: float, delay: float
) -> None:
    assert backoff(attempt, base_s=base, cap_s=cap) == delay


def test_backoff_jitter_only_ever_shortens_the_wait() -> None:
    assert backoff(3, jitter=0.2, rand=lambda: 1.0) == pytest.approx(0.8)
    assert backoff(3, jitter=0.2, rand=lambda: 0.0) == 1.0


async def test_patiently_retries_an_outage_until_it_passes() -> None:
    calls = 0

    async def op() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise DatabaseUnavailable("connection refused")
        return "written"

    assert await patiently(op, deadline=lambda: time.monotonic() + 10, base_s=0.01) == "written"
    assert calls == 3


async def test_patiently_gives_up_at_the_deadline_with_the_last_error() -> None:
    calls = 0

    async def op() -> None:
        nonlocal calls
        calls += 1
        raise DatabaseUnavailable(f"refused {calls}")

    deadline = time.monotonic() + 0.3
    started = time.monotonic()
    with pytest.raises(DatabaseUnavailable, match="refused"):
        await patiently(op, deadline=lambda: deadline, base_s=0.05, cap_s=0.1)
    assert 0.3 <= time.monotonic() - started < 0.6
    assert calls >= 3


async def test_patiently_raises_other_errors_at_once() -> None:
    calls = 0

    async def op() -> None:
        nonlocal calls
        calls += 1
        raise KeyError("a bug")

    with pytest.raises(KeyError):
        await patiently(op, deadline=lambda: time.monotonic() + 10)
    assert calls == 1


def test_an_outage_is_logged_once_when_it_begins_and_once_when_it_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [100.0]
    outage = Outage("the database", clock=lambda: now[0], settle_s=2.0)
    with caplog.at_level(logging.WARNING, logger="reelserve.outages"):
        for _ in range(50):
            outage.failed("connection refused")
            outage.refused()
            now[0] += 0.1
        outage.ok()  # a success among failures: not over yet
        now[0] += 2.0
        outage.failed("connection refused")
        now[0] += 0.5
        outage.ok()
        assert outage.down
        now[0] += 8.0
        outage.ok()
        outage.ok()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2, lines
    assert lines[0].startswith("the database is unavailable (connection refused)")
    assert lines[1] == (
        "the database is available again after 15.5 s (51 failed operation(s), "
        "50 request(s) answered 503)"
    )
    assert not outage.down and outage.outages == 1


def test_a_read_that_works_does_not_end_an_outage_of_failing_writes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outage = Outage("the database", settle_s=0)
    with caplog.at_level(logging.WARNING, logger="reelserve.outages"):
        outage.failed("database or disk is full", write=True)
        outage.ok()  # a poll: reads still work on a full disk
        outage.failed("database or disk is full", write=True)
        assert outage.down
        outage.ok(write=True)
    assert len(caplog.records) == 2
    assert not outage.down


def test_a_dependency_outage_answers_503_with_retry_after() -> None:
    error = DatabaseUnavailable("connection refused")
    assert isinstance(error, DependencyUnavailable)
    assert error.code == 503
    assert error.message == "service temporarily unavailable, try again"
    assert error.headers == {"Retry-After": "5"}
    assert str(error) == "connection refused"


class _Workers:
    def __init__(self) -> None:
        self.beats = 0
        self.fail = False

    async def beat(self, info: object) -> None:
        if self.fail:
            raise DatabaseUnavailable("connection refused")
        self.beats += 1

    async def remove(self, worker_id: str) -> None:
        pass


class _Store:
    def __init__(self) -> None:
        self.workers = _Workers()


async def test_the_presence_row_beats_only_while_the_worker_serves_and_survives_outages() -> None:
    store = _Store()
    alive = True
    beat = asyncio.create_task(keep_present(store, object(), 0.01, alive=lambda: alive))  # type: ignore[arg-type]
    await asyncio.sleep(0.1)
    assert store.workers.beats > 0
    store.workers.fail = True
    await asyncio.sleep(0.05)
    assert not beat.done()  # an outage does not end it
    store.workers.fail = False
    alive = False
    await asyncio.sleep(0.02)
    stalled = store.workers.beats
    await asyncio.sleep(0.1)
    assert store.workers.beats == stalled  # a dead worker's row ages to `lost`
    beat.cancel()


async def test_a_supervised_loop_that_crashes_or_returns_is_restarted_and_logged(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("reelserve.worker.node.backoff", lambda *_a, **_k: 0.0)
    runs = 0
    stopping = False

    async def run() -> None:
        nonlocal runs, stopping
        runs += 1
        if runs == 1:
            raise RuntimeError("boom")
        if runs == 3:
            stopping = True

    with caplog.at_level(logging.WARNING, logger="reelserve.worker"):
        await asyncio.wait_for(supervise("the in-process worker", run, lambda: stopping), 5)
    assert runs == 3
    messages = [r.getMessage() for r in caplog.records]
    assert "the in-process worker crashed; restarting it" in messages
    assert "the in-process worker stopped unexpectedly; restarting it" in messages


class _CommitFails:
    """A connection whose statements work and whose COMMIT fails (a full disk)."""

    def begin(self) -> Any:
        class Transaction:
            def __enter__(self) -> None:
                return None

            def __exit__(self, kind: Any, *_rest: Any) -> None:
                if kind is None:
                    raise _sqlite_error("database or disk is full", 13)

        return Transaction()


def test_a_batch_whose_commit_fails_settles_each_write_once_as_failed() -> None:
    from reelserve.store.sqlite import SqliteBackend

    outcomes = SqliteBackend._run_batch(_CommitFails(), [lambda c: 1, lambda c: 2, lambda c: 3])  # type: ignore[arg-type]
    assert [ok for ok, _ in outcomes] == [False, False, False]
    assert all(sqlite.unavailable(error) for _, error in outcomes)
