"""The SDK (`reelserve.client`) against a real reelserve on loopback: every method, sync
and async, with the videos it downloads decoded."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reelserve.client import (
    AlephRecord,
    AsyncClient,
    Client,
    FeatureDisabled,
    InsufficientCredits,
    Maintenance,
    MarketRecord,
    NotFound,
    RunwayRecord,
    TaskFailed,
    TaskRecord,
    Unauthorized,
    ValidationError,
    WaitTimeout,
)
from reelserve.client.webhooks import MarketCallback, RunwayCallback, parse_callback, verify
from reelserve.media.decode import probe
from reelserve.security.apikeys import display_prefix, generate_key, hash_key
from reelserve.store.store import Store
from tests.receivers import Receiver
from tests.support import RunningServer, StaticHttpServer, png_bytes, run_server, run_server_with

UNLIMITED = 2_147_483_647


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with run_server(tmp_path_factory.mktemp("sdk")) as running:
        yield running


@pytest.fixture
def client(srv: RunningServer) -> Iterator[Client]:
    with Client(api_key=srv.keys["alice"], base_url=srv.base_url) as c:
        yield c


def geometry(path: Path) -> tuple[int, int, int]:
    info = probe(path)
    return info.width, info.height, info.frame_count


def test_generate_wait_download_and_extend(client: Client, tmp_path: Path) -> None:
    task = client.runway.generate(
        prompt="A paper boat on a lake",
        duration=5,
        quality="720p",
        aspect_ratio="16:9",
        watermark="sdk",
    )
    seen: list[TaskRecord] = []
    record = task.wait(timeout=120, poll_interval=0.1, on_progress=seen.append)
    assert isinstance(record, RunwayRecord) and record.succeeded
    assert seen[-1] is record and seen[-1].progress == 1.0
    progress = [r.progress for r in seen]
    assert progress == sorted(progress)  # never goes backwards
    assert record.prompt == "A paper boat on a lake" and record.video_id
    assert geometry(task.download(tmp_path / "boat.mp4")) == (1280, 720, 120)

    polled = client.runway.get(task.id)
    assert polled.video_url.startswith(client.config.base_url + "/files/")
    assert polled.parent_task_id == "" and not polled.expired

    ext = client.runway.extend(task, prompt="It reaches the shore", quality="720p")
    out = ext.download(tmp_path / "ext.mp4", timeout=120)  # waits first
    assert ext.record is not None and ext.record.raw["parentTaskId"] == task.id
    assert geometry(out) == (1280, 720, 240)
    assert not list(tmp_path.glob(".*.part"))  # streamed to a temp file, then renamed


def test_image_to_video_from_uploaded_bytes(client: Client, tmp_path: Path) -> None:
    uploaded = client.files.upload(png_bytes(640, 480), file_name="still.png")
    assert uploaded.mime_type == "image/png" and uploaded.file_path.endswith("/still.png")
    task = client.runway.generate(prompt="The light changes", image_url=uploaded.download_url)
    assert task.wait(timeout=120, poll_interval=0.1).image_url == uploaded.download_url
    assert geometry(task.download(tmp_path / "i2v.mp4")) == (960, 720, 120)


def test_uploads_by_path_and_by_url(
    client: Client, tmp_path: Path, static_http: StaticHttpServer
) -> None:
    big = png_bytes(1600, 1200) + b"\0" * (1_100_000)  # over the base64 threshold
    path = tmp_path / "big.png"
    path.write_bytes(big)
    by_path = client.files.upload(path, upload_path="sdk/tests", file_name="big.png")
    assert by_path.file_size == len(big) and by_path.file_path == "sdk/tests/big.png"
    assert httpx.get(by_path.download_url).content == big
    in_memory = client.files.upload(big, file_name="mem.png")  # streamed, not base64
    assert in_memory.file_size == len(big)

    url = static_http.add("/sdk-photo.png", png_bytes(64, 48), "image/png")
    by_url = client.files.upload(url, file_name="fetched.png")
    assert by_url.file_size == len(png_bytes(64, 48)) and by_url.mime_type == "image/png"


def test_download_url_refreshes_a_media_url(client: Client, srv: RunningServer) -> None:
    task = client.jobs.create(
        "synthetic/text-to-video", {"prompt": "fresh", "duration": 1, "resolution": "360p"}
    )
    record = task.wait(timeout=120, poll_interval=0.1)
    fresh = client.download_url(record.video_url)
    assert fresh != record.video_url and "/files/media/" in fresh
    assert httpx.get(fresh).content == httpx.get(record.video_url).content
    with pytest.raises(ValidationError) as caught:
        client.download_url("https://example.com/not-ours.mp4")
    assert caught.value.field == "url"


def test_aleph_restyles_an_uploaded_video(client: Client, tmp_path: Path) -> None:
    source = client.jobs.create(
        "synthetic/text-to-video",
        {"prompt": "source", "duration": 2, "resolution": "360p", "aspect_ratio": "16:9"},
    )
    source_file = source.download(tmp_path / "src.mp4", timeout=120)
    video = client.files.upload(source_file, file_name="src.mp4")
    task = client.aleph.generate(
        prompt="watercolour", video_url=video.download_url, aspect_ratio="1:1", seed=7
    )
    record = task.wait(timeout=120, poll_interval=0.1)
    assert isinstance(record, AlephRecord) and record.params["seed"] == 7
    assert client.aleph.get(task.id).video_url == record.video_url
    assert geometry(task.download(tmp_path / "aleph.mp4")) == (960, 960, 48)


def test_market_models_create_and_get(client: Client, tmp_path: Path) -> None:
    models = {m.model: m for m in client.jobs.models()}
    assert {"synthetic/text-to-video", "synthetic/image-to-video"} <= set(models)
    assert "prompt" in models["synthetic/text-to-video"].input_schema["properties"]
    task = client.jobs.create(
        "synthetic/text-to-video",
        {"prompt": "market", "duration": 1, "resolution": "360p", "aspect_ratio": "16:9"},
    )
    assert task.kind == "market"
    record = task.wait(timeout=120, poll_interval=0.1)
    assert isinstance(record, MarketRecord) and record.model == "synthetic/text-to-video"
    assert client.jobs.get(task.id).result_urls == [record.video_url]
    assert geometry(task.download(tmp_path / "m.mp4")) == (640, 360, 24)


def test_credits_of_an_unlimited_key(client: Client) -> None:
    assert client.credits() == UNLIMITED


def test_errors_are_typed_and_name_the_field(client: Client, srv: RunningServer) -> None:
    with pytest.raises(ValidationError) as caught:
        client.runway.generate(prompt="x", quality="4k", aspect_ratio="16:9")
    assert caught.value.field == "quality" and "720p" in caught.value.message
    with pytest.raises(ValidationError) as caught:
        client.jobs.create("no/such-model", {"prompt": "x"})
    assert caught.value.field == "model"
    with pytest.raises(NotFound):
        client.runway.get("6f0c5b1e-0000-4000-8000-000000000000")
    with Client(api_key="rs_wrong", base_url=srv.base_url) as stranger, pytest.raises(Unauthorized):
        stranger.credits()


def test_a_failing_task_raises_task_failed_with_its_code(client: Client) -> None:
    not_an_image = client.files.upload(b"this is text, not a picture", file_name="fake.png")
    task = client.runway.generate(prompt="x", image_url=not_an_image.download_url)
    with pytest.raises(TaskFailed) as caught:
        task.wait(timeout=120, poll_interval=0.1)
    assert caught.value.fail_code == 400 and caught.value.task_id == task.id
    assert caught.value.fail_msg


def test_wait_gives_up_after_its_timeout(client: Client) -> None:
    task = client.runway.generate(prompt="slow enough", duration=10, aspect_ratio="9:16")
    with pytest.raises(WaitTimeout) as caught:
        task.wait(timeout=0.05, poll_interval=0.02)
    assert isinstance(caught.value, TimeoutError) and caught.value.task_id == task.id


def test_rest_status_mode_reads_the_same(tmp_path: Path) -> None:
    with run_server(tmp_path / "data", http_status="rest") as rest:
        raw = httpx.get(rest.base_url + "/api/v1/chat/credit")
        assert raw.status_code == 401  # the mode is on: errors are HTTP errors
        with Client(api_key=rest.keys["alice"], base_url=rest.base_url) as c:
            assert c.credits() == UNLIMITED
            with pytest.raises(ValidationError) as caught:
                c.runway.generate(prompt="x", duration=7, aspect_ratio="16:9")
            assert caught.value.field == "duration" and caught.value.http_status == 422
            with pytest.raises(NotFound):
                c.jobs.get("nope")
        with Client(api_key="rs_wrong", base_url=rest.base_url) as c, pytest.raises(Unauthorized):
            c.credits()


def test_operator_switches_and_credits_are_typed(tmp_path: Path) -> None:
    with run_server(tmp_path / "data", disabled_features="uploads", run_worker=False) as srv:
        key = generate_key()

        async def poor_key() -> None:
            store = Store(srv.settings.resolved_database_url)
            await store.open()
            try:
                await store.keys.create("poor", hash_key(key), display_prefix(key), None, credits=3)
            finally:
                await store.close()

        asyncio.run(poor_key())
        with Client(api_key=key, base_url=srv.base_url) as c:
            assert c.credits() == 3
            with pytest.raises(InsufficientCredits):
                c.runway.generate(prompt="x", aspect_ratio="16:9")
            with pytest.raises(FeatureDisabled):
                c.files.upload(b"abc", file_name="a.txt")
    with (
        run_server(tmp_path / "m", maintenance=True, run_worker=False) as srv,
        Client(api_key=srv.keys["alice"], base_url=srv.base_url) as c,
        pytest.raises(Maintenance),
    ):
        c.runway.generate(prompt="x", aspect_ratio="16:9")


def test_signed_callbacks_verify_and_can_be_listed_and_redelivered(tmp_path: Path) -> None:
    secret = "a long webhook secret"
    with Receiver() as rx, run_server_with(tmp_path / "data", {"alice": secret}) as srv:
        hook = rx.script("/hook")
        with Client(api_key=srv.keys["alice"], base_url=srv.base_url) as c:
            task = c.runway.generate(prompt="called back", aspect_ratio="1:1", callback_url=hook)
            task.wait(timeout=120, poll_interval=0.1)
            (first,) = rx.wait_for("/hook", 1)
            event = verify(secret, first.headers, first.body)
            assert isinstance(event, RunwayCallback) and event.task_id == task.id
            assert event.succeeded and event.video_url

            (delivery,) = c.callbacks.list(task.id)
            assert delivery.state == "delivered" and delivery.url == hook
            assert delivery.webhook_id == first.headers["webhook-id"]
            assert [a.http_status for a in delivery.attempts] == [200]

            again = c.callbacks.redeliver(task.id)
            assert again and again != delivery.delivery_id
            second = rx.wait_for("/hook", 2)[1]
            assert second.headers["webhook-id"] != first.headers["webhook-id"]
            assert verify(secret, second.headers, second.body).task_id == task.id
            assert len(c.callbacks.list(task.id)) == 2


def test_the_async_client_does_everything_the_sync_one_does(
    srv: RunningServer, tmp_path: Path, static_http: StaticHttpServer
) -> None:
    async def scenario() -> None:
        async with AsyncClient(api_key=srv.keys["alice"], base_url=srv.base_url) as c:
            assert await c.credits() == UNLIMITED
            t2v = await c.runway.generate(prompt="async boat", aspect_ratio="4:3")
            seen: list[TaskRecord] = []
            done = await t2v.wait(timeout=120, poll_interval=0.1, on_progress=seen.append)
            assert done.succeeded and seen[-1] is done
            assert (await c.runway.get(t2v.id)).video_url == done.video_url
            ext = await c.runway.extend(t2v.id, prompt="and on", quality="720p")
            out = await ext.download(tmp_path / "async-ext.mp4", timeout=120)
            assert geometry(out) == (960, 720, 240)

            models = await c.jobs.models()
            assert any(m.model == "synthetic/video-to-video" for m in models)
            job = await c.jobs.create(
                "synthetic/text-to-video", {"prompt": "a", "duration": 1, "resolution": "360p"}
            )
            await job.wait(timeout=120, poll_interval=0.1)
            assert (await c.jobs.get(job.id)).succeeded
            job_file = await job.download(tmp_path / "job.mp4")
            assert geometry(job_file) == (640, 360, 24)

            by_path = await c.files.upload(job_file, file_name="job.mp4")
            by_bytes = await c.files.upload(png_bytes(32, 32), file_name="p.png")
            url = static_http.add("/async.png", png_bytes(40, 30), "image/png")
            by_url = await c.files.upload(url)
            assert by_path.mime_type == "video/mp4" and by_bytes.mime_type == "image/png"
            assert by_url.mime_type == "image/png"
            assert (await c.download_url(done.video_url)).startswith(srv.base_url)

            restyle = await c.aleph.generate(prompt="ink", video_url=by_path.download_url)
            await restyle.wait(timeout=120, poll_interval=0.1)
            assert (await c.aleph.get(restyle.id)).succeeded
            assert await c.callbacks.list(t2v.id) == []  # no callBackUrl: no deliveries
            with pytest.raises(ValidationError) as caught:
                await c.callbacks.redeliver(t2v.id)
            assert caught.value.field == "callBackUrl" or "callBackUrl" in caught.value.message
            with pytest.raises(NotFound):
                await c.aleph.get("missing")

    asyncio.run(scenario())


def test_async_callbacks_redeliver_to_a_receiver(tmp_path: Path) -> None:
    with Receiver() as rx, run_server(tmp_path / "data") as srv:
        hook = rx.script("/async-hook")

        async def scenario() -> None:
            async with AsyncClient(api_key=srv.keys["alice"], base_url=srv.base_url) as c:
                job = await c.jobs.create(
                    "synthetic/text-to-video",
                    {"prompt": "cb", "duration": 1, "resolution": "360p"},
                    callback_url=hook,
                )
                await job.wait(timeout=120, poll_interval=0.1)
                (sent,) = await asyncio.to_thread(rx.wait_for, "/async-hook", 1)
                event = parse_callback(sent.body)
                assert isinstance(event, MarketCallback) and event.task_id == job.id
                assert event.succeeded and event.state == "success"
                assert event.result_urls == [(await c.jobs.get(job.id)).video_url]
                await c.callbacks.redeliver(job.id)
                await asyncio.to_thread(rx.wait_for, "/async-hook", 2)
                states = [d.state for d in await c.callbacks.list(job.id)]
                assert len(states) == 2 and states[0] == "delivered"

        asyncio.run(scenario())
