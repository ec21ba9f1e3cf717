"""Market sources and bad input through a real server.

A fetched source that is not what the model takes (x-accept) or is larger
than its limit (x-max-mb) fails the task with failCode 400 and the spec §5
message; a schema problem is a 422 naming `input.<field>` and stores nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from reelserve.store.store import Store
from reelserve.store.tables import tasks
from tests.market_models import MarketRun, serve_sources, video_bytes
from tests.receivers import Receiver
from tests.support import RunningServer, StaticHttpServer, png_bytes, run_server


@pytest.fixture(scope="module")
def market(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[MarketRun, StaticHttpServer]]:
    static = StaticHttpServer()
    with Receiver() as receiver, run_server(tmp_path_factory.mktemp("sources")) as server:
        yield MarketRun(server, receiver, serve_sources(static)), static
    static.close()


def _count(server: RunningServer) -> int:
    import asyncio

    async def count() -> int:
        store = Store(server.settings.resolved_database_url)
        await store.open()
        try:
            return int(
                await store.db.read(
                    lambda c: c.execute(select(func.count()).select_from(tasks)).scalar()
                )
            )
        finally:
            await store.close()

    return asyncio.run(count())


def test_a_video_where_an_image_belongs_fails_the_task_with_incorrect_image_format(
    market: tuple[MarketRun, StaticHttpServer],
) -> None:
    run, static = market
    url = static.add("/bad/not-an-image.png", video_bytes(), "image/png")
    task_id = run.create("google/nano-banana-edit", {"prompt": "edit", "image_urls": [url]})
    record = run.wait(task_id)
    assert record["state"] == "fail"
    assert record["failCode"] == "400"
    assert record["failMsg"].startswith("Incorrect image format"), record["failMsg"]
    assert record["resultJson"] == ""


def test_a_source_over_the_models_size_limit_fails_the_task_with_get_image_info_failed(
    market: tuple[MarketRun, StaticHttpServer],
) -> None:
    run, static = market
    # recraft/remove-background takes images up to 5 MB (x-max-mb).
    big = png_bytes(16, 16) + b"\0" * (6 * 2**20)
    url = static.add("/bad/big.png", big, "image/png")
    task_id = run.create("recraft/remove-background", {"image": url})
    record = run.wait(task_id)
    assert record["state"] == "fail" and record["failCode"] == "400", record
    assert record["failMsg"].startswith("Get image info failed"), record["failMsg"]


def test_an_unreachable_source_fails_the_task_with_failcode_400(
    market: tuple[MarketRun, StaticHttpServer],
) -> None:
    run, static = market
    task_id = run.create(
        "topaz/image-upscale",
        {"image_url": static.base_url + "/nothing.png", "upscale_factor": "2"},
    )
    record = run.wait(task_id)
    assert record["state"] == "fail" and record["failCode"] == "400", record
    assert record["failMsg"].startswith("Get image info failed"), record


@pytest.mark.parametrize(
    ("model", "input", "field", "says"),
    [
        (
            "kling-2.6/text-to-video",
            {"prompt": "p", "sound": True, "duration": "7"},
            "input.duration",
            '"5"',
        ),
        ("nano-banana-pro", {}, "input.prompt", "required"),
        (
            "nano-banana-pro",
            {"prompt": "p", "image_input": ["ftp://x/y.png"]},
            "input.image_input",
            "http",
        ),
        ("z-image", {"prompt": "p", "aspect_ratio": "2:1"}, "input.aspect_ratio", "1:1"),
        ("bytedance/seedance-2", {"prompt": "p"}, "input.prompt", "3"),
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_stores_nothing(
    market: tuple[MarketRun, StaticHttpServer],
    model: str,
    input: dict[str, object],
    field: str,
    says: str,
) -> None:
    run, _ = market
    before = _count(run.server)
    answer = run.client.post("/api/v1/jobs/createTask", json={"model": model, "input": input})
    body = answer.json()
    assert body["code"] == 422, body
    assert field in body["msg"] and says in body["msg"], body["msg"]
    assert _count(run.server) == before


def test_a_chat_model_is_refused_with_the_specs_message(
    market: tuple[MarketRun, StaticHttpServer],
) -> None:
    run, _ = market
    body = run.client.post(
        "/api/v1/jobs/createTask", json={"model": "claude-sonnet-4-5", "input": {"prompt": "hi"}}
    ).json()
    assert body["code"] == 422
    assert "chat models are not served by this server" in body["msg"], body


def test_models_lists_every_model_with_its_kind_engine_and_schema(
    market: tuple[MarketRun, StaticHttpServer],
) -> None:
    run, _ = market
    body = run.client.get("/api/v1/jobs/models").json()
    assert body["code"] == 200
    by_name = {m["model"]: m for m in body["data"]}
    assert "synthetic/text-to-video" in by_name and "nano-banana-pro" in by_name
    assert len(by_name) >= 110
    assert by_name["nano-banana-pro"]["kind"] == "image"
    assert by_name["kling-2.6/text-to-video"]["kind"] == "video"
    assert by_name["elevenlabs/speech-to-text"]["kind"] == "text"
    assert all(m["engine"] == "synthetic" for m in by_name.values())
    assert "prompt" in by_name["nano-banana-pro"]["inputSchema"]["properties"]


def test_the_openapi_document_shows_each_market_model(
    market: tuple[MarketRun, StaticHttpServer],
) -> None:
    run, _ = market
    doc = run.client.get("/openapi.json").json()
    body = doc["paths"]["/api/v1/jobs/createTask"]["post"]["requestBody"]["content"]
    titles = {v["title"] for v in body["application/json"]["schema"]["oneOf"]}
    assert {"nano-banana-pro", "kling-2.6/text-to-video", "bytedance/seedance-2"} <= titles
    assert "nano-banana-pro" in body["application/json"]["examples"]
    json.dumps(doc)  # serialisable
