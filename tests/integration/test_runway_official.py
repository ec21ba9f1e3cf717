"""Runway's developer API (`/v1`) through a real server, driven by the real `runwayml` SDK
(sync and async, unpatched): creates, the waiter, retrieve, delete, organization, the
two-step upload, X-Runway-Version, THROTTLED, idempotent creates (issue 18)."""

from __future__ import annotations

import asyncio
import base64
import io
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
import runwayml
from PIL import Image

from reelserve.security.apikeys import display_prefix, generate_key, hash_key
from reelserve.store.store import Store
from tests.integration.test_credits import balance
from tests.market_models import video_bytes
from tests.support import RunningServer, StaticHttpServer, png_bytes, run_server

VERSION = "2024-11-06"
PLUGINS = "slow=tests.engines_for_tests:SlowSyntheticEngine"


@pytest.fixture(scope="module")
def static_http() -> Iterator[StaticHttpServer]:
    http = StaticHttpServer()
    yield http
    http.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with run_server(
        tmp_path_factory.mktemp("runway-official"),
        engine_plugins=PLUGINS,
        routes="gen4.5=slow;*=synthetic",
    ) as running:
        add_key(running, "limited", max_concurrent=1)
        add_key(running, "payer", credits=1000)
        yield running


def add_key(server: RunningServer, name: str, **limits: Any) -> str:
    async def run() -> str:
        store = Store(server.settings.resolved_database_url)
        await store.open()
        try:
            key = generate_key()
            await store.keys.create(name, hash_key(key), display_prefix(key), **limits)
            return key
        finally:
            await store.close()

    key = asyncio.run(run())
    server.keys[name] = key
    return key


def sdk(server: RunningServer, key: str = "alice", **kwargs: Any) -> runwayml.RunwayML:
    return runwayml.RunwayML(api_key=server.keys[key], base_url=server.base_url, **kwargs)


def raw(server: RunningServer, key: str = "alice", **headers: str) -> httpx.Client:
    client = server.client(key)
    client.headers.update({"X-Runway-Version": VERSION, **headers})
    return client


def fetched(url: str, tmp_path: Path, name: str) -> Path:
    """The output downloaded with no credentials at all, as the SDK's users do."""
    response = httpx.get(url, timeout=30)
    assert response.status_code == 200, url
    path = tmp_path / name
    path.write_bytes(response.content)
    return path


def video_shape(path: Path) -> tuple[int, int, float, bool]:
    """(width, height, seconds, has sound) of an MP4, decoded frame by frame."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        frames = [f for f in container.decode(stream)]
        sound = bool(container.streams.audio)
    fps = float(stream.average_rate or 24)
    return frames[0].width, frames[0].height, len(frames) / fps, sound


def audio_seconds(path: Path) -> float:
    with av.open(str(path)) as container:
        samples = sum(f.samples for f in container.decode(audio=0))
        rate = container.streams.audio[0].rate
    return float(samples) / rate


def data_uri(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def test_the_sync_sdk_makes_every_kind_and_the_outputs_decode(
    server: RunningServer, static_http: StaticHttpServer, tmp_path: Path
) -> None:
    client = sdk(server)
    image = tmp_path / "first.png"
    image.write_bytes(png_bytes(320, 240))
    uploaded = client.uploads.create_ephemeral(file=image)
    assert uploaded.uri.startswith("runway://")
    clip = static_http.add("/official/clip.mp4", video_bytes(), "video/mp4")
    last_frame = static_http.add("/official/last.png", png_bytes(160, 120), "image/png")
    created = {
        "i2v": client.image_to_video.create(
            model="gen4_turbo", prompt_image=uploaded.uri, ratio="960:960", duration=2
        ),
        "veo": client.image_to_video.create(
            model="veo3.1_fast",
            prompt_image=[
                {"uri": data_uri(png_bytes(160, 120)), "position": "first"},
                {"uri": last_frame, "position": "last"},
            ],
            ratio="720:1280",
            duration=4,
            prompt_text="a slow pan",
        ),
        "t2v": client.text_to_video.create(
            model="gen4.5", prompt_text="waves at dusk", ratio="1280:720", duration=2
        ),
        "v2v": client.video_to_video.create(
            model="gen4_aleph", video_uri=clip, prompt_text="make it snow"
        ),
        "t2i": client.text_to_image.create(
            model="gen4_image_turbo",
            prompt_text="a lighthouse, @ref",
            ratio="1360:768",
            reference_images=[{"uri": uploaded.uri, "tag": "ref"}],
        ),
        "upscale": client.video_upscale.create(model="upscale_v1", video_uri=clip),
        "sfx": client.sound_effect.create(
            model="eleven_text_to_sound_v2", prompt_text="a door creaks", duration=1.5
        ),
    }
    assert all(c.estimated_cost.credits > 0 for c in created.values())
    with ThreadPoolExecutor(len(created)) as pool:
        done = dict(zip(created, pool.map(lambda c: c.wait_for_task_output(timeout=120),
                                          created.values()), strict=True))  # fmt: skip
    for name, task in done.items():
        assert task.status == "SUCCEEDED", (name, task)
        assert len(task.output) == 1, (name, task.output)
    assert video_shape(fetched(done["i2v"].output[0], tmp_path, "i2v.mp4"))[:3] == (960, 960, 2.0)
    assert video_shape(fetched(done["veo"].output[0], tmp_path, "veo.mp4")) == (
        720, 1280, 4.0, True,
    )  # fmt: skip
    assert video_shape(fetched(done["t2v"].output[0], tmp_path, "t2v.mp4"))[:3] == (
        1280, 720, 2.0,
    )  # fmt: skip
    width, height, seconds, _ = video_shape(fetched(done["v2v"].output[0], tmp_path, "v2v.mp4"))
    assert (width, height) == (320, 240) and seconds == pytest.approx(2.0, abs=0.1)
    width, height, seconds, _ = video_shape(fetched(done["upscale"].output[0], tmp_path, "u.mp4"))
    assert (width, height) == (640, 480) and seconds == pytest.approx(2.0, abs=0.1)
    picture = Image.open(fetched(done["t2i"].output[0], tmp_path, "t2i.png"))
    assert picture.size == (1360, 768)
    sound = fetched(done["sfx"].output[0], tmp_path, "sfx.mp3")
    assert audio_seconds(sound) == pytest.approx(1.5, abs=0.15)
    again = client.tasks.retrieve(created["t2v"].id)
    assert again.status == "SUCCEEDED" and again.output == done["t2v"].output
    assert again.created_at.tzinfo is not None


def test_the_async_sdk_creates_waits_deletes_and_reads_the_organization(
    server: RunningServer, static_http: StaticHttpServer, tmp_path: Path
) -> None:
    clip = static_http.add("/official/async-clip.mp4", video_bytes(), "video/mp4")

    async def run() -> None:
        client = runwayml.AsyncRunwayML(api_key=server.keys["payer"], base_url=server.base_url)
        image = tmp_path / "ref.png"
        image.write_bytes(png_bytes(64, 64))
        uploaded = await client.uploads.create_ephemeral(file=image)
        created = [
            await client.text_to_speech.create(
                model="eleven_multilingual_v2",
                prompt_text="Hello from reelserve.",
                voice={"type": "runway-preset", "preset_id": "Maya"},
            ),
            await client.text_to_image.create(
                model="gen4_image",
                prompt_text="a red kite",
                ratio="720:960",
                reference_images=[{"uri": uploaded.uri}],
            ),
            await client.image_to_video.create(
                model="gen4_turbo", prompt_image=uploaded.uri, ratio="832:1104", duration=2
            ),
            await client.text_to_video.create(
                model="veo3.1", prompt_text="rain on a tin roof", ratio="1280:720", duration=4
            ),
            await client.video_to_video.create(model="aleph2", video_uri=clip),
        ]
        speech, picture, i2v, t2v, v2v = await asyncio.gather(
            *(c.wait_for_task_output(timeout=120) for c in created)
        )
        assert {t.status for t in (speech, picture, i2v, t2v, v2v)} == {"SUCCEEDED"}
        assert audio_seconds(fetched(speech.output[0], tmp_path, "speech.mp3")) > 0.5
        assert Image.open(fetched(picture.output[0], tmp_path, "kite.png")).size == (720, 960)
        shape = video_shape(fetched(i2v.output[0], tmp_path, "i2v.mp4"))
        assert shape[:3] == (832, 1104, 2.0)
        assert video_shape(fetched(t2v.output[0], tmp_path, "t2v.mp4")) == (1280, 720, 4.0, True)
        assert video_shape(fetched(v2v.output[0], tmp_path, "v2v.mp4"))[:2] == (320, 240)
        org = await client.organization.retrieve()
        spent = sum(c.estimated_cost.credits for c in created)
        assert org.credit_balance == 1000 - spent
        assert org.usage.models["gen4_image"].daily_generations == 1
        assert org.usage.models["eleven_multilingual_v2"].daily_generations == 1
        assert org.usage.models["gen4.5"].daily_generations == 0
        assert org.tier.models["gen4_turbo"].max_concurrent_generations > 0
        await client.tasks.delete(picture.id)
        with pytest.raises(runwayml.NotFoundError) as missing:
            await client.tasks.retrieve(picture.id)
        assert missing.value.body == {"error": "Could not find Task"}
        assert (await client.tasks.retrieve(t2v.id)).output == t2v.output
        await client.close()

    asyncio.run(run())


def test_the_sync_sdk_deletes_and_reads_the_organization(server: RunningServer) -> None:
    client = sdk(server, "bob")
    task = client.text_to_image.create(model="gen4_image", prompt_text="x", ratio="720:720")
    org = client.organization.retrieve()
    assert org.credit_balance == 2_147_483_647  # bob has no credit limit
    assert org.usage.models["gen4_image"].daily_generations >= 1
    client.tasks.delete(task.id)
    with pytest.raises(runwayml.NotFoundError):
        client.tasks.retrieve(task.id)


def test_the_version_header_is_required_and_checked(server: RunningServer) -> None:
    with pytest.raises(runwayml.BadRequestError) as wrong:
        sdk(server, runway_version="2023-01-01").organization.retrieve()
    assert "X-Runway-Version" in wrong.value.body["error"]
    assert "2023-01-01" in wrong.value.body["error"]
    bare = server.client("alice")
    answer = bare.post("/v1/text_to_image", json={"model": "gen4_image"})
    assert answer.status_code == 400
    assert "X-Runway-Version" in answer.json()["error"]
    assert raw(server).get("/v1/organization").status_code == 200
    assert (
        raw(server, "alice", **{"X-Runway-Version": "2024-09-13"})
        .get("/v1/organization")
        .status_code
        == 200
    )


def test_bad_keys_and_unknown_tasks_answer_as_runway_does(server: RunningServer) -> None:
    anonymous = httpx.Client(base_url=server.base_url, headers={"X-Runway-Version": VERSION})
    assert anonymous.get("/v1/organization").status_code == 401
    assert "error" in anonymous.get("/v1/organization").json()
    with pytest.raises(runwayml.AuthenticationError):
        runwayml.RunwayML(api_key="key_nope", base_url=server.base_url).organization.retrieve()
    with pytest.raises(runwayml.NotFoundError) as missing:
        sdk(server).tasks.retrieve("00000000-0000-4000-8000-000000000000")
    assert missing.value.body == {"error": "Could not find Task"}
    # Another key's task is not found either.
    theirs = raw(server, "bob").post(
        "/v1/text_to_image", json={"model": "gen4_image", "promptText": "x", "ratio": "720:720"}
    )
    assert raw(server).get(f"/v1/tasks/{theirs.json()['id']}").status_code == 404


GOOD_I2V = {"model": "gen4_turbo", "promptImage": "https://example.com/a.png", "ratio": "1280:720"}
BAD_BODIES = [
    ("/v1/image_to_video", {**GOOD_I2V, "model": "gen9"}, ["model"], "invalid_union"),
    ("/v1/image_to_video", {k: v for k, v in GOOD_I2V.items() if k != "ratio"}, ["ratio"],
     "invalid_value"),
    ("/v1/image_to_video", {**GOOD_I2V, "ratio": "1920:1080"}, ["ratio"], "invalid_value"),
    ("/v1/image_to_video", {**GOOD_I2V, "duration": 11}, ["duration"], "invalid_value"),
    ("/v1/image_to_video", {**GOOD_I2V, "promptText": "😀" * 501}, ["promptText"], "too_big"),
    ("/v1/image_to_video", {**GOOD_I2V, "promptText": "  "}, ["promptText"], "too_small"),
    ("/v1/image_to_video", {**GOOD_I2V, "promptImage": "ftp://x/a.png"}, ["promptImage"],
     "custom"),
    ("/v1/image_to_video", {**GOOD_I2V, "promptImage": [{"uri": "https://e.com/a.png",
     "position": "last"}]}, ["promptImage", 0, "position"], "invalid_value"),
    ("/v1/image_to_video", {**GOOD_I2V, "model": "veo3.1", "promptImage": [
     {"uri": "https://e.com/a.png", "position": "last"}]}, ["promptImage"], "custom"),
    ("/v1/image_to_video", {**GOOD_I2V, "seed": 2**32}, ["seed"], "too_big"),
    ("/v1/image_to_video", {**GOOD_I2V, "promptImage": "data:text/plain;base64,aGk="},
     ["promptImage"], "custom"),
    ("/v1/image_to_video", {**GOOD_I2V, "promptImage": "runway://uploads/nope/a.png"},
     ["promptImage"], "custom"),
    ("/v1/image_to_video", {**GOOD_I2V, "model": "gen4.5", "duration": 5}, ["promptText"],
     "invalid_type"),
    ("/v1/text_to_video", {"model": "veo3", "promptText": "x", "ratio": "1280:720",
     "duration": 4}, ["duration"], "invalid_value"),
    ("/v1/video_to_video", {"model": "gen4_aleph", "promptText": "x"}, ["videoUri"],
     "invalid_type"),
    ("/v1/video_to_video", {"model": "gen4_aleph", "promptText": "x",
     "videoUri": "https://e.com/v.mp4", "references": [{"type": "image", "uri": "https://e.com/1.png"},
     {"type": "image", "uri": "https://e.com/2.png"}]}, ["references"], "too_big"),
    ("/v1/text_to_image", {"model": "gen4_image_turbo", "promptText": "x", "ratio": "720:720"},
     ["referenceImages"], "too_small"),
    ("/v1/text_to_image", {"model": "gen4_image", "promptText": "x", "ratio": "16:9"}, ["ratio"],
     "invalid_value"),
    ("/v1/video_upscale", {"model": "magnific_video_upscaler_creative",
     "videoUri": "https://e.com/v.mp4", "resolution": "8k"}, ["resolution"], "invalid_value"),
    ("/v1/sound_effect", {"model": "eleven_text_to_sound_v2", "promptText": "x", "duration": 31},
     ["duration"], "too_big"),
    ("/v1/text_to_speech", {"model": "eleven_multilingual_v2", "promptText": "x"}, ["voice"],
     "invalid_type"),
    ("/v1/uploads", {"filename": "a.png", "type": "permanent"}, ["type"], "invalid_value"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "body", "where", "code"), BAD_BODIES)
def test_each_bad_body_is_a_400_naming_its_path_and_makes_no_task(
    server: RunningServer, path: str, body: dict[str, Any], where: list[Any], code: str
) -> None:
    client = raw(server, "payer")
    before = balance(server, "payer")
    answer = client.post(path, json=body)
    assert answer.status_code == 400, answer.text
    error = answer.json()
    assert error["error"] == "Validation of body failed"
    assert error["docUrl"].startswith("https://")
    assert [(i["path"], i["code"]) for i in error["issues"]] == [(where, code)], error
    assert error["issues"][0]["message"]
    assert balance(server, "payer") == before


def test_a_body_with_several_problems_lists_them_all(server: RunningServer) -> None:
    answer = raw(server).post(
        "/v1/text_to_video", json={"model": "gen4.5", "ratio": "1:1", "duration": 1}
    )
    paths = [i["path"] for i in answer.json()["issues"]]
    assert paths == [["ratio"], ["duration"], ["promptText"]]
    assert raw(server).post("/v1/text_to_video", content=b"[1]").json()["issues"][0]["path"] == [
        "body"
    ]


def wait_status(client: httpx.Client, task_id: str, *states: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = str(client.get(f"/v1/tasks/{task_id}").json()["status"])
        if status in states:
            return status
        time.sleep(0.05)
    raise AssertionError(f"{task_id} never reached {states}")


def test_a_key_at_its_concurrency_limit_shows_throttled_then_running(
    server: RunningServer,
) -> None:
    limited, other = raw(server, "limited"), raw(server, "bob")
    body = {"model": "gen4.5", "promptText": "slow", "ratio": "720:1280", "duration": 3}
    first = limited.post("/v1/text_to_video", json=body).json()["id"]
    assert wait_status(limited, first, "RUNNING") == "RUNNING"
    second = limited.post("/v1/text_to_video", json=body).json()["id"]
    unlimited = other.post("/v1/text_to_video", json=body).json()["id"]
    throttled = limited.get(f"/v1/tasks/{second}").json()
    assert throttled["status"] == "THROTTLED", throttled
    assert throttled["estimatedCost"]["credits"] > 0
    assert other.get(f"/v1/tasks/{unlimited}").json()["status"] == "PENDING"
    running = limited.get(f"/v1/tasks/{first}").json()
    assert 0.0 <= running["progress"] <= 1.0
    # The queued task of the unlimited key is cancelled and deleted: 204, then 404.
    deleted = other.delete(f"/v1/tasks/{unlimited}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert other.get(f"/v1/tasks/{unlimited}").status_code == 404
    assert wait_status(limited, second, "RUNNING", "SUCCEEDED") in ("RUNNING", "SUCCEEDED")
    assert wait_status(limited, second, "SUCCEEDED") == "SUCCEEDED"
    assert limited.get(f"/v1/tasks/{first}").json()["cost"]["credits"] > 0


def test_a_running_task_cancelled_over_the_litellm_path_ends_cancelled_and_refunded(
    server: RunningServer,
) -> None:
    client = raw(server, "payer")
    before = balance(server, "payer")
    body = {"model": "gen4.5", "promptText": "stop me", "ratio": "1280:720", "duration": 10}
    task_id = client.post("/v1/text_to_video", json=body).json()["id"]
    wait_status(client, task_id, "RUNNING")
    answer = client.delete(f"/v1/tasks/{task_id}/cancel")
    assert answer.status_code == 200
    assert wait_status(client, task_id, "CANCELLED", timeout=10) == "CANCELLED"
    assert client.get(f"/v1/tasks/{task_id}").json()["cost"] == {"credits": 0}
    assert balance(server, "payer") == before


def test_concurrent_identical_creates_with_one_idempotency_key_make_one_task_and_charge(
    server: RunningServer,
) -> None:
    client = raw(server, "payer", **{"Idempotency-Key": "official-1"})
    before = balance(server, "payer")
    body = {"model": "gen4_image", "promptText": "once", "ratio": "720:720"}
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda _: client.post("/v1/text_to_image", json=body), range(20)))
    assert {a.status_code for a in answers} == {200}
    ids = {a.json()["id"] for a in answers}
    assert len(ids) == 1
    credits = answers[0].json()["estimatedCost"]["credits"]
    assert balance(server, "payer") == before - credits
    other = client.post("/v1/text_to_image", json={**body, "promptText": "twice"})
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["error"]


def test_an_upload_url_takes_one_file_once_and_only_with_its_signed_fields(
    server: RunningServer,
) -> None:
    client = raw(server)
    start = client.post("/v1/uploads", json={"filename": "photo.png", "type": "ephemeral"})
    assert start.status_code == 200
    plan = start.json()
    assert plan["uploadUrl"].startswith(server.base_url)
    file = {"file": ("photo.png", io.BytesIO(png_bytes(32, 32)), "image/png")}
    altered = {**plan["fields"], "filename": "other.png"}
    assert httpx.post(plan["uploadUrl"], data=altered, files=file).status_code == 401
    file = {"file": ("photo.png", io.BytesIO(png_bytes(32, 32)), "image/png")}
    assert httpx.post(plan["uploadUrl"], data=plan["fields"], files=file).status_code == 204
    file = {"file": ("photo.png", io.BytesIO(png_bytes(8, 8)), "image/png")}
    assert httpx.post(plan["uploadUrl"], data=plan["fields"], files=file).status_code == 409
    # The URI works for its key only.
    body = {"model": "gen4_image", "promptText": "x", "ratio": "720:720",
            "referenceImages": [{"uri": plan["runwayUri"]}]}  # fmt: skip
    assert client.post("/v1/text_to_image", json=body).status_code == 200
    refused = raw(server, "bob").post("/v1/text_to_image", json=body)
    assert refused.status_code == 400
    assert refused.json()["issues"][0]["path"] == ["referenceImages", 0]
