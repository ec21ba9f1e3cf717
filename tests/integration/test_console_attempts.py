"""Each attempt at a task is logged by its worker (store/attempts.py) and shown on the
console's task page with its engine, worker, times, outcome and error."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support import RunningServer, run_server

TOKEN = "attempts-admin-token"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with run_server(
        tmp_path_factory.mktemp("console-attempts"),
        admin_token=TOKEN,
        engine_plugins="raising=tests.engines_for_tests:RaisingEngine",
        routes="text_to_video=raising;*=synthetic",
        max_attempts=2,
    ) as running:
        yield running


def console(server: RunningServer) -> httpx.Client:
    client = httpx.Client(base_url=server.base_url)
    nonce = re.search(r'name="nonce" value="([^"]+)"', client.get("/console/login").text)
    assert nonce is not None
    client.post("/console/login", data={"token": TOKEN, "nonce": nonce.group(1)})
    return client


def finished(server: RunningServer, task_id: str) -> dict[str, object]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        data = server.client("alice").get("/api/v1/tasks/detail", params={"taskId": task_id})
        detail = dict(data.json()["data"])
        if detail["status"] in ("succeeded", "failed"):
            return detail
        time.sleep(0.1)
    raise AssertionError("the task did not finish")


def attempt_rows(html: str) -> list[list[str]]:
    table = html.split('<table class="attempts">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>", 1)[1], re.S)
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", r, re.S)]
            for r in rows]  # fmt: skip


def test_a_task_that_crashes_twice_shows_both_attempts_and_their_error(
    server: RunningServer,
) -> None:
    body = {"prompt": "boom", "duration": 5, "quality": "720p", "aspectRatio": "16:9"}
    task_id = (
        server.client("alice").post("/api/v1/runway/generate", json=body).json()["data"]["taskId"]
    )
    assert finished(server, task_id)["status"] == "failed"
    deadline = time.monotonic() + 10
    while True:  # the log line is written just after the outcome
        rows = attempt_rows(console(server).get(f"/console/tasks/{task_id}").text)
        if len(rows) == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert [r[0] for r in rows] == ["1", "2"]
    assert {r[1] for r in rows} == {"raising"}
    assert [r[5] for r in rows] == ["crashed", "crashed"]
    assert all(r[6] == "RuntimeError: engine exploded" for r in rows)
    assert all(r[2] for r in rows)  # the worker's id


def test_a_successful_task_shows_one_succeeded_attempt(server: RunningServer) -> None:
    body = {"model": "gen4_image", "promptText": "fine", "ratio": "720:720"}
    answer = server.client("alice").post(
        "/v1/text_to_image", json=body, headers={"X-Runway-Version": "2024-11-06"}
    )
    task_id = answer.json()["id"]
    assert finished(server, task_id)["status"] == "succeeded"
    deadline = time.monotonic() + 10
    rows: list[list[str]] = []
    while not rows and time.monotonic() < deadline:
        html = console(server).get(f"/console/tasks/{task_id}").text
        rows = attempt_rows(html) if 'class="attempts"' in html else []
        time.sleep(0.1)
    assert [(r[0], r[1], r[5], r[6]) for r in rows] == [("1", "synthetic", "succeeded", "")]
