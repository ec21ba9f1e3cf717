"""JSON log lines: one object per record, the task's fields while a task is handled."""

from __future__ import annotations

import json
import logging
import sys

from reelserve.observability.logs import JsonFormatter, task_context


def _record(message: str, exc_info: object = None) -> logging.LogRecord:
    return logging.LogRecord("reelserve.worker", logging.INFO, __file__, 1, message, (), exc_info)  # type: ignore[arg-type]


def test_a_line_carries_the_task_fields_only_inside_its_context() -> None:
    formatter = JsonFormatter()
    with task_context("t1", "market", "synthetic/text-to-video", "synthetic", "k1"):
        inside = json.loads(formatter.format(_record("working")))
    outside = json.loads(formatter.format(_record("idle")))
    assert inside["message"] == "working"
    assert inside["level"] == "INFO" and inside["logger"] == "reelserve.worker"
    assert inside["time"].endswith("Z")
    assert {k: inside[k] for k in ("task_id", "family", "model", "engine", "key_id")} == {
        "task_id": "t1",
        "family": "market",
        "model": "synthetic/text-to-video",
        "engine": "synthetic",
        "key_id": "k1",
    }
    assert "task_id" not in outside


def test_a_traceback_stays_inside_its_one_line() -> None:
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        line = JsonFormatter().format(_record("failed", sys.exc_info()))
    assert "\n" not in line
    assert "ValueError: boom" in json.loads(line)["exc"]
