"""Durable hand-off (issue 15): the front's worker is SIGKILLed right after the upstream
accepted a task; restarted, it follows that upstream task, submits nothing again, and
the task succeeds with the upstream's video stored here."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import httpx

from tests.cluster import Cluster
from tests.kie_families import fetch, video_info, wait_record
from tests.upstreams import UpstreamServer


def handoff(db: Path) -> tuple[str, str, int] | None:
    """(state, upstream id, submissions) of the only hand-off, read straight from SQLite."""
    if not db.exists():
        return None
    with sqlite3.connect(db, timeout=5) as conn:
        try:
            row = conn.execute("SELECT state, upstream_id, submissions FROM handoffs").fetchone()
        except sqlite3.OperationalError:  # not migrated yet
            return None
    return (str(row[0]), str(row[1] or ""), int(row[2])) if row else None


def test_a_worker_killed_after_the_hand_off_resumes_without_submitting_again(
    tmp_path: Path,
) -> None:
    with UpstreamServer(tmp_path / "upstream") as up:
        root = tmp_path / "front"
        root.mkdir()
        db = root / "front.db"
        front = Cluster(
            root,
            f"sqlite+aiosqlite:///{db}",
            REELSERVE_ROUTES="kling-*=upstream:test;*=synthetic",
            REELSERVE_UPSTREAM_TEST_URL=up.base_url,
            REELSERVE_UPSTREAM_TEST_KEY=up.key,
            REELSERVE_UPSTREAM_TEST_POLL_S="0.3",
            REELSERVE_ALLOW_PRIVATE_URLS="true",
        )
        with front:
            key = front.create_key("alice")
            api = front.start_api(worker=True)
            client = httpx.Client(
                base_url=front.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30
            )
            body = {
                "model": "kling-2.6/text-to-video",
                "input": {"prompt": "durable", "duration": "10", "sound": False},
            }
            answer = client.post("/api/v1/jobs/createTask", json=body).json()
            assert answer["code"] == 200, answer
            task_id = answer["data"]["taskId"]

            deadline = time.monotonic() + 60
            while (found := handoff(db)) is None or found[0] != "accepted":
                assert time.monotonic() < deadline, api.tail()
                time.sleep(0.01)
            api.kill()
            assert up.task_count() == 1
            upstream_id = found[1]
            with sqlite3.connect(db, timeout=5) as conn:
                [status] = conn.execute("SELECT status FROM tasks").fetchone()
            assert status == "running"  # killed mid-task, not after it ended

            front.start_api(worker=True)
            record = wait_record(
                client,
                "/api/v1/jobs/recordInfo",
                task_id,
                lambda d: d["state"] in ("success", "fail"),
                timeout=180,
            )
            assert record["state"] == "success", (record, front.processes[-1].tail())
            assert up.task_count() == 1  # exactly one upstream task: never submitted twice
            state = handoff(db)
            assert state == ("accepted", upstream_id, 1), state
            url = json.loads(record["resultJson"])["resultUrls"][0]
            assert url.startswith(front.base_url + "/files/")
            up.delete_media()
            assert abs(video_info(fetch(client, url)).seconds - 10) < 0.3
            client.close()
