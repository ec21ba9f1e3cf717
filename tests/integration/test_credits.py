"""Credits: charged with the insert, refunded once on failure, never negative; 402 when short."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from reelserve.security.apikeys import display_prefix, generate_key, hash_key
from reelserve.store.store import Store
from reelserve.store.tasks import Admission
from reelserve.tasks.models import Dialect, NewTask
from tests.databases import database_url
from tests.support import RunningServer, StaticHttpServer, run_server

BODY = {"prompt": "credits", "duration": 5, "quality": "720p", "aspectRatio": "16:9"}
UNLIMITED = 2147483647


def add_key(server: RunningServer, name: str, credits: int | None) -> str:
    async def run() -> str:
        store = Store(server.settings.resolved_database_url)
        await store.open()
        try:
            key = generate_key()
            await store.keys.create(
                name, hash_key(key), display_prefix(key), rate_limit=0, credits=credits
            )
            return key
        finally:
            await store.close()

    key = asyncio.run(run())
    server.keys[name] = key
    return key


def balance(server: RunningServer, name: str) -> Any:
    answer = server.client(name).get("/api/v1/chat/credit").json()
    assert answer["code"] == 200
    return answer["data"]


@pytest.fixture(scope="module")
def paused(tmp_path_factory: pytest.TempPathFactory, backend: str):  # type: ignore[no-untyped-def]
    with run_server(
        tmp_path_factory.mktemp("credits"), run_worker=False, backend=backend
    ) as server:
        yield server


def test_an_unlimited_key_reports_the_32_bit_maximum(paused: RunningServer) -> None:
    assert balance(paused, "alice") == UNLIMITED


def test_a_task_is_charged_when_it_is_accepted(paused: RunningServer) -> None:
    add_key(paused, "payer", 100)
    assert balance(paused, "payer") == 100
    answer = paused.client("payer").post("/api/v1/runway/generate", json=BODY).json()
    assert answer["code"] == 200
    assert balance(paused, "payer") == 88  # 5 s at 720p costs 12


def test_short_of_credits_is_402_and_nothing_is_queued_or_charged(paused: RunningServer) -> None:
    add_key(paused, "poor", 10)
    before = paused.client("poor").post("/api/v1/runway/generate", json=BODY).json()
    assert before["code"] == 402 and "12" in before["msg"] and "10" in before["msg"]
    assert balance(paused, "poor") == 10


def test_fifty_concurrent_submits_never_overdraw_or_double_charge(paused: RunningServer) -> None:
    key = add_key(paused, "racer", 120)

    def submit(_: int) -> int:
        with httpx.Client(base_url=paused.base_url, headers={"Authorization": key}) as c:
            return int(c.post("/api/v1/runway/generate", json=BODY).json()["code"])

    with ThreadPoolExecutor(max_workers=50) as pool:
        codes = list(pool.map(submit, range(50)))
    assert codes.count(200) == 10 and codes.count(402) == 40
    assert balance(paused, "racer") == 0


def test_a_failed_task_is_refunded_exactly_once(
    tmp_path: Path, static_http: StaticHttpServer
) -> None:
    with run_server(tmp_path / "data") as server:
        add_key(server, "refund", 50)
        client = server.client("refund")
        body = {
            "prompt": "x",
            "duration": 5,
            "quality": "720p",
            "imageUrl": static_http.base_url + "/none.png",
        }
        task = client.post("/api/v1/runway/generate", json=body).json()["data"]["taskId"]
        assert server.wait(client, task)["state"] == "fail"
        assert balance(server, "refund") == 50
        ok = client.post("/api/v1/runway/generate", json=BODY).json()["data"]["taskId"]
        assert server.wait(client, ok)["state"] == "success"
        time.sleep(0.5)
        assert balance(server, "refund") == 38, "a success keeps its charge; the refund was once"


@pytest.fixture
async def store(tmp_path: Path, backend: str) -> AsyncIterator[Store]:
    with database_url(backend, tmp_path) as url:
        s = Store(url, read_cache_s=0)
        await s.open()
        yield s
        await s.close()


async def test_the_store_refunds_once_whichever_path_fails_the_task(store: Store) -> None:
    key = await store.keys.create("k", "h", "p", credits=30)
    new = NewTask(
        str(uuid.uuid4()), key.id, Dialect.RUNWAY, "text_to_video", "synthetic", {}, {}, cost=12
    )
    await store.tasks.insert(new, Admission(key.id, 0, 0, price=12))
    assert await store.keys.balance(key.id) == 18
    first = await store.tasks.claim("w", {"synthetic"}, 0.05, max_attempts=1)
    assert first is not None
    await asyncio.sleep(0.1)
    assert await store.tasks.fail_exhausted(1, "gone") == 1
    assert await store.keys.balance(key.id) == 30
    # The stale worker's own failure write is refused, so no second refund.
    assert not await store.tasks.fail(first.id, first.lease_token or "", 500, "late")
    assert await store.keys.balance(key.id) == 30


def test_download_url_gives_a_fresh_twenty_minute_link(tmp_path: Path) -> None:
    with run_server(tmp_path / "data") as server:
        client = server.client("alice")
        task = client.post("/api/v1/runway/generate", json=BODY).json()["data"]["taskId"]
        video_url = server.wait(client, task)["videoInfo"]["videoUrl"]
        answer = client.post("/api/v1/common/download-url", json={"url": video_url}).json()
        assert answer["code"] == 200
        fresh = answer["data"]
        expires = int(httpx.URL(fresh).params["expires"])
        assert 19 * 60 <= expires - time.time() <= 20 * 60 + 5
        assert server.client(None).get(fresh).status_code == 200
        for foreign in (
            "https://example.com/files/x.mp4",
            video_url.replace("sig=", "sig=x"),
            server.base_url + "/files/media/x/video.mp4",
            "not a url",
        ):
            refused = client.post("/api/v1/common/download-url", json={"url": foreign}).json()
            assert refused["code"] == 422 and "url" in refused["msg"], foreign
        missing = client.post("/api/v1/common/download-url", json={}).json()
        assert missing["code"] == 422


def test_credits_are_set_and_shown_by_the_cli(tmp_path: Path) -> None:
    env = {**os.environ, "REELSERVE_DATA_DIR": str(tmp_path / "data")}
    cli = [sys.executable, "-m", "reelserve", "keys"]
    subprocess.run(
        [*cli, "create", "--name", "c", "--credits", "100"],
        env=env,
        check=True,
        capture_output=True,
    )
    listing = subprocess.run(
        [*cli, "list"], env=env, check=True, capture_output=True, text=True
    ).stdout
    assert "credits 100" in listing
    subprocess.run(
        [*cli, "update", "c", "--credits", "unlimited"], env=env, check=True, capture_output=True
    )
    listing = subprocess.run(
        [*cli, "list"], env=env, check=True, capture_output=True, text=True
    ).stdout
    assert "credits unlimited" in listing
    bad = subprocess.run([*cli, "update", "c", "--credits", "-5"], env=env, capture_output=True)
    assert bad.returncode == 2
