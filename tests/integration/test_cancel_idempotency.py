"""Cancel (`POST /api/v1/tasks/cancel`, every family) and idempotent creates
(`Idempotency-Key`, every family), through a real server (issue 18)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.test_credits import add_key, balance
from tests.receivers import Receiver
from tests.support import RunningServer, run_server, wait_for_task

BODY = {"prompt": "cancel me", "duration": 5, "quality": "720p", "aspectRatio": "16:9"}
PLUGINS = "slow=tests.engines_for_tests:SlowSyntheticEngine"


ENGINE_LOG = "REELSERVE_TEST_ENGINE_LOG"  # where tests/engines_for_tests.py logs each run


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv(ENGINE_LOG, str(tmp_path_factory.mktemp("log") / "engine.log"))
        with run_server(
            tmp_path_factory.mktemp("cancel"),
            engine_plugins=PLUGINS,
            routes="text_to_video=slow;*=synthetic",
        ) as running:
            yield running


def engine_runs() -> list[str]:
    """The prompts the slow engine ran, in order."""
    log = Path(os.environ[ENGINE_LOG])
    return [line.split(" ", 2)[2] for line in log.read_text().splitlines()] if log.exists() else []


def submit(client: httpx.Client, body: dict[str, Any], **headers: str) -> dict[str, Any]:
    return dict(client.post("/api/v1/runway/generate", json=body, headers=headers).json())


def cancel(client: httpx.Client, task_id: str) -> dict[str, Any]:
    return dict(client.post("/api/v1/tasks/cancel", json={"taskId": task_id}).json())


def detail(client: httpx.Client, task_id: str) -> dict[str, Any]:
    return dict(client.get("/api/v1/tasks/detail", params={"taskId": task_id}).json()["data"])


def wait_status(client: httpx.Client, task_id: str, *states: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = str(detail(client, task_id)["status"])
        if status in states:
            return status
        time.sleep(0.05)
    raise AssertionError(f"{task_id} never reached {states}")


def test_a_queued_task_is_canceled_at_once_never_runs_refunded_with_one_callback(
    server: RunningServer,
) -> None:
    add_key(server, "canceller", credits=1000)
    client = server.client("canceller")
    with Receiver() as rx:
        url = rx.script("/cb")
        busy = submit(client, {**BODY, "prompt": "occupies the worker"})["data"]["taskId"]
        wait_status(client, busy, "running")
        queued = submit(client, {**BODY, "prompt": "never runs", "callBackUrl": url})
        queued_id = queued["data"]["taskId"]
        charged = 1000 - balance(server, "canceller")
        answer = cancel(client, queued_id)
        assert answer["code"] == 200, answer
        assert answer["data"] == {
            "taskId": queued_id,
            "status": "canceled",
            "canceled": True,
            "cancelling": False,
        }
        record = wait_for_task(client, queued_id)
        assert record["state"] == "fail" and record["failMsg"] == "Task was canceled"
        [callback] = rx.wait_for("/cb", 1)
        assert callback.json()["msg"] == "Task was canceled"
        assert wait_for_task(client, busy, timeout=120)["state"] == "success"
        assert cancel(client, queued_id)["data"]["canceled"] is True  # a no-op now
        time.sleep(0.5)
        assert len(rx.received("/cb")) == 1
    assert "never runs" not in engine_runs()
    assert "occupies the worker" in engine_runs()
    # The busy task's price is kept; the cancelled one's came back, once.
    assert 1000 - balance(server, "canceller") == charged // 2
    info = detail(client, queued_id)
    assert info["credits"]["refunded"] is True


def test_a_running_task_stops_at_its_next_step_and_its_files_are_gone(
    server: RunningServer,
) -> None:
    client = server.client()
    task_id = submit(client, {**BODY, "prompt": "stopped midway"})["data"]["taskId"]
    deadline = time.monotonic() + 60
    while detail(client, task_id)["progress"] <= 0.05:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    asked = time.monotonic()
    answer = cancel(client, task_id)
    assert answer["data"]["cancelling"] is True or answer["data"]["canceled"] is True, answer
    assert "stops at its engine's next step" in answer["msg"] or answer["data"]["canceled"]
    wait_status(client, task_id, "canceled", timeout=10)
    assert time.monotonic() - asked < 1.0
    media = server.settings.data_dir / "blobs" / "media" / task_id
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_cancelling_a_finished_task_is_a_clear_no_op(server: RunningServer) -> None:
    client = server.client()
    answer = client.post(
        "/api/v1/jobs/createTask",
        json={"model": "nano-banana-pro", "input": {"prompt": "done", "aspect_ratio": "1:1"}},
    ).json()
    task_id = answer["data"]["taskId"]
    wait_status(client, task_id, "succeeded")
    done = cancel(client, task_id)
    assert done["code"] == 200
    assert done["data"] == {
        "taskId": task_id,
        "status": "succeeded",
        "canceled": False,
        "cancelling": False,
    }
    assert "already finished (succeeded)" in done["msg"]
    missing = cancel(client, "no-such-task")
    assert missing["code"] == 404
    other = cancel(server.client("bob"), task_id)
    assert other["code"] == 404  # another key's task does not exist for it


# --- idempotent creates --------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_twenty_concurrent_identical_creates_make_one_task_and_one_charge(
    tmp_path: Path, backend: str
) -> None:
    with run_server(tmp_path, backend=backend, run_worker=False) as srv:
        add_key(srv, "payer", credits=10_000)
        headers = {"Idempotency-Key": "order-42"}
        body = {"model": "nano-banana-pro", "input": {"prompt": "once", "aspect_ratio": "1:1"}}
        answers: list[dict[str, Any]] = []
        start = threading.Barrier(20)

        def post() -> None:
            with httpx.Client(
                base_url=srv.base_url,
                headers={"Authorization": f"Bearer {srv.keys['payer']}", **headers},
                timeout=60,
            ) as c:
                start.wait()
                answers.append(c.post("/api/v1/jobs/createTask", json=body).json())

        threads = [threading.Thread(target=post) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(a["code"] == 200 for a in answers), answers
        ids = {a["data"]["taskId"] for a in answers}
        assert len(ids) == 1
        spent = 10_000 - balance(srv, "payer")
        assert spent == 4  # one image's price, charged once
        client = srv.client("payer")
        [task_id] = ids
        assert detail(client, task_id)["status"] == "queued"
        # Same key, another body: refused, naming the header; nothing made or charged.
        other = client.post(
            "/api/v1/jobs/createTask",
            json={**body, "input": {"prompt": "twice", "aspect_ratio": "1:1"}},
            headers=headers,
        ).json()
        assert other["code"] == 422 and "Idempotency-Key" in other["msg"], other
        # A new key makes a new task.
        fresh = client.post(
            "/api/v1/jobs/createTask", json=body, headers={"Idempotency-Key": "order-43"}
        ).json()
        assert fresh["code"] == 200 and fresh["data"]["taskId"] != task_id
        assert 10_000 - balance(srv, "payer") == 8
        bad = client.post(
            "/api/v1/jobs/createTask", json=body, headers={"Idempotency-Key": "x" * 300}
        )
        assert bad.json()["code"] == 422 and "Idempotency-Key" in bad.json()["msg"]


def test_every_family_honours_the_key(server: RunningServer) -> None:
    client = server.client()
    creates = [
        ("/api/v1/runway/generate", {**BODY, "prompt": "idem runway"}),
        ("/api/v1/veo/generate", {"prompt": "idem veo", "model": "veo3_fast"}),
        ("/api/v1/gpt4o-image/generate", {"prompt": "idem 4o", "size": "1:1"}),
        ("/api/v1/flux/kontext/generate", {"prompt": "idem flux", "model": "flux-kontext-pro"}),
        (
            "/api/v1/generate",
            {
                "prompt": "idem suno",
                "customMode": False,
                "instrumental": True,
                "model": "V4_5",
                "callBackUrl": "https://example.com/cb",
            },
        ),
    ]
    for path, body in creates:
        key = {"Idempotency-Key": f"k-{path}"}
        first = client.post(path, json=body, headers=key).json()
        again = client.post(path, json=body, headers=key).json()
        assert first["code"] == 200 and again["code"] == 200, (path, first, again)
        assert first["data"]["taskId"] == again["data"]["taskId"], path
        for task_id in {first["data"]["taskId"]}:
            cancel(client, task_id)
