"""Cancel reaches a real pipeline: a running tiny-LTX task in its child process stops
within a second, is refunded once and calls back once (issue 18)."""

from __future__ import annotations

import time
from pathlib import Path

from tests.engines.conftest import TinyWeights, tiny_settings
from tests.integration.test_credits import add_key, balance
from tests.receivers import Receiver
from tests.support import run_server, wait_for_task


def test_a_running_diffusers_task_stops_within_a_second(
    tiny_weights: TinyWeights, tmp_path: Path
) -> None:
    # Thousands of tiny steps: the run would take far longer than the test allows.
    settings = tiny_settings(tiny_weights, ltx_steps=5000)
    with run_server(tmp_path, **settings) as server, Receiver() as rx:
        add_key(server, "payer", credits=100)
        client = server.client("payer")
        url = rx.script("/cb")
        body = {
            "prompt": "a long render",
            "duration": 5,
            "quality": "720p",
            "aspectRatio": "16:9",
            "callBackUrl": url,
        }
        task_id = client.post("/api/v1/runway/generate", json=body).json()["data"]["taskId"]
        assert balance(server, "payer") < 100
        deadline = time.monotonic() + 120
        while True:  # until the pipeline is stepping (the child has loaded)
            info = client.get("/api/v1/tasks/detail", params={"taskId": task_id}).json()["data"]
            if info["progress"] > 0.001:
                break
            assert info["status"] in ("queued", "running"), info
            assert time.monotonic() < deadline, info
            time.sleep(0.05)
        asked = time.monotonic()
        answer = client.post("/api/v1/tasks/cancel", json={"taskId": task_id}).json()
        assert answer["code"] == 200 and answer["data"]["cancelling"], answer
        while (
            client.get("/api/v1/tasks/detail", params={"taskId": task_id}).json()["data"]["status"]
            != "canceled"
        ):
            assert time.monotonic() - asked < 5
            time.sleep(0.02)
        stopped_s = time.monotonic() - asked
        assert stopped_s < 1.0, stopped_s
        record = wait_for_task(client, task_id)
        assert record["failMsg"] == "Task was canceled"
        [callback] = rx.wait_for("/cb", 1)
        assert callback.json()["msg"] == "Task was canceled"
        assert balance(server, "payer") == 100  # refunded, once
        time.sleep(0.5)
        assert len(rx.received("/cb")) == 1
        # The interrupt stopped the run, not the engine: its child process is still up.
        assert server.app.state.worker.registry.loaded("ltx-video") is not None
