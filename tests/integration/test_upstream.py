"""Upstream providers (docs/upstream.md), end to end over real HTTP: a front reelserve
routes models to `upstream:test`, a second real reelserve process behind a fault-injecting
proxy (tests/upstreams.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.kie_families import fetch, image_of, wait_record
from tests.support import RunningServer, run_server
from tests.upstreams import FaultProxy, UpstreamServer

ROUTES = (
    "nano-banana-*=upstream:test;"
    "kling-*=upstream:test;"
    "veo3*=upstream:test;"
    "suno/*=upstream:test;"
    "text_to_video=upstream:test;"
    "image_to_video=upstream:test;"
    "*=synthetic"
)


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UpstreamServer]:
    with UpstreamServer(tmp_path_factory.mktemp("upstream")) as up:
        yield up


@pytest.fixture(scope="module")
def proxy(upstream: UpstreamServer) -> Iterator[FaultProxy]:
    with FaultProxy(upstream.base_url, retry_after=0.5, hang_s=30) as p:
        yield p


@pytest.fixture()
def faults(proxy: FaultProxy) -> Iterator[FaultProxy]:
    proxy.mode = "pass"
    proxy.seen.clear()
    proxy.faults.clear()
    yield proxy
    proxy.mode = "pass"
    proxy._queue.clear()


@pytest.fixture(scope="module")
def front(
    tmp_path_factory: pytest.TempPathFactory, upstream: UpstreamServer, proxy: FaultProxy
) -> Iterator[RunningServer]:
    config = upstream.config(url=proxy.base_url, request_timeout_s=2, retries=2)
    with run_server(
        tmp_path_factory.mktemp("front"),
        routes=ROUTES,
        upstreams={"test": config},
    ) as server:
        yield server


def market(client: httpx.Client, model: str, values: dict[str, Any]) -> str:
    body = client.post("/api/v1/jobs/createTask", json={"model": model, "input": values}).json()
    assert body["code"] == 200, body
    return str(body["data"]["taskId"])


def market_done(client: httpx.Client, task_id: str) -> dict[str, Any]:
    return wait_record(
        client, "/api/v1/jobs/recordInfo", task_id, lambda d: d["state"] in ("success", "fail")
    )


def result_urls(record: dict[str, Any]) -> list[str]:
    return list(json.loads(record["resultJson"])["resultUrls"])


def own(server: RunningServer, url: str) -> None:
    assert url.startswith(server.base_url + "/files/"), url


def test_market_image_through_the_upstream(
    front: RunningServer, upstream: UpstreamServer, faults: FaultProxy
) -> None:
    client = front.client()
    task_id = market(client, "nano-banana-pro", {"prompt": "a red fox", "aspect_ratio": "16:9"})
    record = market_done(client, task_id)
    assert record["state"] == "success", record
    urls = result_urls(record)
    assert len(urls) == 1
    own(front, urls[0])
    assert faults.seen["POST /api/v1/jobs/createTask"] == 1
    image = image_of(fetch(client, urls[0]))
    assert image.width > image.height
    detail = client.get("/api/v1/tasks/detail", params={"taskId": task_id}).json()["data"]
    assert detail["engine"] == "upstream:test", detail
    assert detail["upstream"]["taskId"], detail
    # The upstream's copy deleted: ours still serves.
    assert upstream.delete_media() > 0
    assert image_of(fetch(client, urls[0])).size == image.size
