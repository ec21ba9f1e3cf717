"""Log lines: text (the default) or one JSON object per line (`REELSERVE_LOG_FORMAT=json`).

While a task is handled — by a worker around its attempt, by the API around a submit or a
cancel — a context variable holds the task's id, family, model, engine and key id; the
JSON formatter puts them on every line logged meanwhile, in any logger, including from the
threads `asyncio.to_thread` starts (they copy the context).

Example line::

    {"time": "2026-12-02T07:35:23.123Z", "level": "INFO", "logger": "reelserve.worker",
     "message": "task t1 succeeded in 0.84 s", "task_id": "t1", "family": "market",
     "model": "synthetic/text-to-video", "engine": "synthetic", "key_id": "k1"}
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

_TASK: ContextVar[dict[str, str] | None] = ContextVar("reelserve_task", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@contextlib.contextmanager
def task_context(task_id: str, family: str, model: str, engine: str, key_id: str) -> Iterator[None]:
    """Every line logged inside carries these (in JSON mode)."""
    token = _TASK.set(
        {"task_id": task_id, "family": family, "model": model, "engine": engine, "key_id": key_id}
    )
    try:
        yield
    finally:
        _TASK.reset(token)


def current_task() -> dict[str, str] | None:
    return _TASK.get()


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ms), level, logger, message, the task's fields
    when a task is being handled, and the traceback (`exc`) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _utc(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = _TASK.get()
        if fields:
            entry.update(fields)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _utc(created: float) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
    return f"{stamp}.{int(created % 1 * 1000):03d}Z"


UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


def configure_logging(log_format: str) -> None:
    """The root logger at INFO, in `log_format` ("text" or "json"), on stderr."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)  # Python's warnings as log lines too (JSON in JSON mode)


def uvicorn_log_config(log_format: str) -> dict[str, Any] | None:
    """uvicorn's own logging set-up: its default (text) or, for JSON, none of its own —
    its loggers then go through the root logger's JSON handler."""
    if log_format != "json":
        return None
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "loggers": {
            name: {"handlers": [], "propagate": True, "level": "INFO"} for name in UVICORN_LOGGERS
        },
    }
