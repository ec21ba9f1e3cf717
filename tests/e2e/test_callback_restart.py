"""Callbacks survive a SIGKILL: pending, between retries, or in flight (issue 4, Build 7).

The receiver is down while tasks finish, the server is killed while their
deliveries wait between retries (and one is mid-attempt, holding a lease),
the receiver comes back on the same port, the server restarts: every task's
callback arrives, and a receiver deduping on `webhook-id` keeps exactly one
per task.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reelserve.settings import Settings
from reelserve.store.store import Store
from tests.e2e.test_crash_recovery import ServerProcess, make_key
from tests.receivers import Receiver, Recorded, Reply, closed_port, dedupe_by_webhook_id

TIMEOUT_S = 1.0
DELAYS = "2,3,4"  # the first deliveries must still be pending when the last task ends


@pytest.fixture
def servers() -> Iterator[list[ServerProcess]]:
    made: list[ServerProcess] = []
    yield made
    for server in made:
        server.stop()


def delivery_rows(data_dir: Path, task_ids: list[str]) -> dict[str, list[tuple[str, int]]]:
    """(state, attempts) of each task's deliveries, read straight from the database."""

    async def read() -> dict[str, list[tuple[str, int]]]:
        store = Store(Settings(data_dir=data_dir).resolved_database_url)
        await store.open()
        try:
            return {
                t: [(d.state.value, len(a)) for d, a in await store.deliveries.for_task(t)]
                for t in task_ids
            }
        finally:
            await store.close()

    return asyncio.run(read())


def test_callbacks_pending_when_the_server_is_killed_arrive_after_the_restart(
    tmp_path: Path, servers: list[ServerProcess]
) -> None:
    data_dir = tmp_path / "data"
    key = make_key(data_dir)
    down_port = closed_port()  # the receiver's port: nothing listens yet
    with Receiver() as stalling:
        # This receiver accepts the first request and sits on it, so that
        # delivery is mid-attempt (leased) when the server dies.
        stall_url = stalling.script("/cb", Reply(200, delay_s=30), Reply(200))
        server = ServerProcess(
            data_dir,
            REELSERVE_ALLOW_PRIVATE_URLS="true",
            REELSERVE_CALLBACK_RETRY_DELAYS=DELAYS,
            REELSERVE_CALLBACK_TIMEOUT_S=str(TIMEOUT_S),
            REELSERVE_LEASE_S="1",
        )
        servers.append(server)
        server.start()
        client = httpx.Client(
            base_url=server.base, headers={"Authorization": f"Bearer {key}"}, timeout=30
        )
        body = {"duration": 5, "quality": "720p", "aspectRatio": "16:9"}
        down_url = f"http://127.0.0.1:{down_port}/cb"
        to_down = [
            client.post(
                "/api/v1/runway/generate",
                json={"prompt": f"restart {i}", "callBackUrl": down_url, **body},
            ).json()["data"]["taskId"]
            for i in range(3)
        ]
        stalled = client.post(
            "/api/v1/runway/generate",
            json={"prompt": "restart stalled", "callBackUrl": stall_url, **body},
        ).json()["data"]["taskId"]

        # The last task has ended and its callback is being sent: kill now, well
        # within the attempt's timeout.
        stalling.wait_for("/cb", 1, timeout=60)
        server.kill()
        client.close()

        rows = delivery_rows(data_dir, [*to_down, stalled])
        for task_id in to_down:
            ((state, tried),) = rows[task_id]
            assert state == "pending" and tried >= 1, (task_id, rows[task_id])
        assert rows[stalled] == [("pending", 0)], "the stalled attempt was never recorded"

        with Receiver(port=down_port) as receiver:  # the receiver comes back
            server.start()
            receiver.wait_for("/cb", len(to_down), timeout=30)
            stalling.wait_for("/cb", 2, timeout=30)  # after its lease ran out
            time.sleep(0.5)  # anything sent twice would show by now
            arrived: list[Recorded] = receiver.received("/cb") + stalling.received("/cb")

        client = httpx.Client(
            base_url=server.base, headers={"Authorization": f"Bearer {key}"}, timeout=30
        )
        listed = {
            t: client.get("/api/v1/callbacks", params={"taskId": t}).json()["data"]
            for t in [*to_down, stalled]
        }
        client.close()

    by_task: dict[str, list[Recorded]] = defaultdict(list)
    for request in arrived:
        by_task[request.json()["data"]["task_id"]].append(request)
    assert set(by_task) == {*to_down, stalled}, "every task's callback arrived"
    for task_id, requests in by_task.items():
        (delivery,) = listed[task_id]
        assert {r.headers["webhook-id"] for r in requests} == {delivery["webhookId"]}
        assert len({r.body for r in requests}) == 1
        assert delivery["state"] == "delivered", delivery
        assert delivery["attempts"][-1]["httpStatus"] == 200
    kept = dedupe_by_webhook_id(arrived)
    assert sorted(r.json()["data"]["task_id"] for r in kept.values()) == sorted(
        [*to_down, stalled]
    ), "deduping on webhook-id leaves exactly one callback per task"
    for task_id in to_down:
        errors = [a["error"] for a in listed[task_id][0]["attempts"][:-1]]
        assert errors and all("connect" in e.lower() for e in errors), errors
