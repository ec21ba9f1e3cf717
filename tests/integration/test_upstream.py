"""Upstream providers (docs/upstream.md), end to end over real HTTP: a front reelserve
routes models to `upstream:test`, a second real reelserve process behind a fault-injecting
proxy (tests/upstreams.py). Nothing of the wire is mocked."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from reelserve.upstream.client import PAYMENT_REQUIRED
from reelserve.upstream.config import UpstreamConfig
from reelserve.upstream.inputs import callback_signature
from tests.integration.test_credits import add_key, balance
from tests.kie_families import fetch, image_of, video_info, wait_4o, wait_flux, wait_record
from tests.receivers import Receiver
from tests.suno import audio_at, custom_song, wait_music
from tests.support import RunningServer, png_bytes, run_server, wait_for_task
from tests.upstreams import FaultProxy, UpstreamServer

ROUTES = (
    "nano-banana-*=upstream:test,synthetic;"  # a fallback
    "kling-*=upstream:test;"  # none
    "veo3*=upstream:test;"
    "suno/*=upstream:test;"
    "gpt4o-image=upstream:test;"
    "flux-kontext-*=upstream:test;"
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
    with FaultProxy(upstream.base_url, retry_after=1.0, hang_s=30) as p:
        yield p


@pytest.fixture()
def faults(proxy: FaultProxy) -> Iterator[FaultProxy]:
    proxy.mode = "pass"
    proxy.seen.clear()
    proxy.times.clear()
    proxy.faults.clear()
    proxy.messages.clear()
    yield proxy
    proxy.mode = "pass"
    proxy._queue.clear()


@pytest.fixture(scope="module")
def front(
    tmp_path_factory: pytest.TempPathFactory, upstream: UpstreamServer, proxy: FaultProxy
) -> Iterator[RunningServer]:
    config = upstream.config(url=proxy.base_url, request_timeout_s=2, retries=2, concurrency=1)
    with run_server(
        tmp_path_factory.mktemp("front"), routes=ROUTES, upstreams={"test": config}
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


def detail(client: httpx.Client, task_id: str) -> dict[str, Any]:
    body = client.get("/api/v1/tasks/detail", params={"taskId": task_id}).json()
    assert body["code"] == 200, body
    return dict(body["data"])


def own(server: RunningServer, url: str) -> None:
    assert url.startswith(server.base_url + "/files/"), url


def upstream_request(upstream: UpstreamServer, upstream_id: str) -> dict[str, Any]:
    rows = [r for r in upstream.task_rows() if r["id"] == upstream_id]
    assert len(rows) == 1, upstream_id
    request = rows[0]["request"]
    return dict(json.loads(request) if isinstance(request, str) else request)


# --- each family through the upstream ------------------------------------------


def test_market_image_is_served_upstream_and_kept_here(
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
    assert "upstream" not in json.dumps(record)  # the record says nothing of it
    info = detail(client, task_id)
    assert info["engine"] == "upstream:test" and info["tried"] == []
    assert info["upstream"]["state"] == "accepted" and info["upstream"]["submissions"] == 1
    sent = upstream_request(upstream, info["upstream"]["taskId"])
    assert sent["model"] == "nano-banana-pro" and sent["input"]["prompt"] == "a red fox"
    # The upstream's copies deleted (KIE's links expire): ours still serve.
    assert upstream.delete_media() > 0
    assert image_of(fetch(client, urls[0])).size == image.size


def test_market_video_runway_and_veo_are_videos_here(
    front: RunningServer, upstream: UpstreamServer, faults: FaultProxy
) -> None:
    client = front.client()
    kling = market(
        client,
        "kling-2.6/text-to-video",
        {"prompt": "waves at dusk", "duration": "5", "aspect_ratio": "16:9", "sound": False},
    )
    runway = client.post(
        "/api/v1/runway/generate",
        json={"prompt": "a lighthouse", "duration": 5, "quality": "720p", "aspectRatio": "16:9"},
    ).json()["data"]["taskId"]
    veo = client.post(
        "/api/v1/veo/generate",
        json={"prompt": "a paper boat", "model": "veo3_fast", "aspect_ratio": "9:16"},
    ).json()["data"]["taskId"]

    kling_record = market_done(client, kling)
    assert kling_record["state"] == "success", kling_record
    runway_record = wait_for_task(client, runway, timeout=300)
    assert runway_record["state"] == "success", runway_record
    veo_record = wait_record(
        client, "/api/v1/veo/record-info", veo, lambda d: d["successFlag"] != 0
    )
    assert veo_record["successFlag"] == 1, veo_record
    upstream.delete_media()

    urls = {
        "kling": result_urls(kling_record)[0],
        "runway": runway_record["videoInfo"]["videoUrl"],
        "runway_cover": runway_record["videoInfo"]["imageUrl"],
        "veo": veo_record["response"]["resultUrls"][0],
    }
    for url in urls.values():
        own(front, url)
    kling_video = video_info(fetch(client, urls["kling"]))
    assert abs(kling_video.seconds - 5) < 0.3
    runway_video = video_info(fetch(client, urls["runway"]))
    assert (runway_video.width, runway_video.height) == (1280, 720)
    assert image_of(fetch(client, urls["runway_cover"])).size == (1280, 720)
    veo_video = video_info(fetch(client, urls["veo"]))
    assert veo_video.height > veo_video.width  # 9:16
    assert veo_record["response"]["originUrls"] == veo_record["response"]["fullResultUrls"]
    for task_id in (kling, runway, veo):
        assert detail(client, task_id)["engine"] == "upstream:test"
    assert faults.seen["POST /api/v1/runway/generate"] == 1
    assert faults.seen["POST /api/v1/veo/generate"] == 1


def test_suno_song_is_two_tracks_here_with_three_staged_callbacks(
    front: RunningServer, upstream: UpstreamServer, faults: FaultProxy
) -> None:
    client = front.client()
    with Receiver() as rx:
        url = rx.script("/song")
        answer = client.post("/api/v1/generate", json=custom_song(callBackUrl=url)).json()
        assert answer["code"] == 200, answer
        task_id = answer["data"]["taskId"]
        record = wait_music(client, task_id)
        assert record["status"] == "SUCCESS", record
        received = rx.wait_for("/song", 3)
    stages = [r.json()["data"]["callbackType"] for r in received[:3]]
    assert stages == ["text", "first", "complete"]
    assert received[0].json()["data"]["data"][0]["title"]
    upstream.delete_media()
    tracks = record["response"]["sunoData"]
    assert len(tracks) == 2
    for track in tracks:
        own(front, track["audioUrl"])
        audio = audio_at(client, track["audioUrl"])
        assert abs(audio.seconds - 54) < 3, audio.seconds
        assert abs(track["duration"] - audio.seconds) < 0.5
        assert image_of(fetch(client, track["imageUrl"])).size[0] > 0
    assert tracks[0]["id"] != tracks[1]["id"]
    assert tracks[0]["title"] == "Neon Rivers"
    info = detail(client, task_id)
    sent = upstream_request(upstream, info["upstream"]["taskId"])
    # Our signed callback path replaced the client's: the client's URL is never handed on.
    assert sent["callBackUrl"] != url and "/api/v1/upstream/callback/" in sent["callBackUrl"]


def test_4o_image_and_flux_kontext_through_the_upstream(
    front: RunningServer, upstream: UpstreamServer, faults: FaultProxy
) -> None:
    client = front.client()
    four = client.post(
        "/api/v1/gpt4o-image/generate", json={"prompt": "a bicycle", "size": "3:2", "nVariants": 2}
    ).json()["data"]["taskId"]
    flux = client.post(
        "/api/v1/flux/kontext/generate",
        json={"prompt": "a kite", "model": "flux-kontext-pro", "aspectRatio": "16:9"},
    ).json()["data"]["taskId"]
    four_record = wait_4o(client, four)
    assert four_record["successFlag"] == 1, four_record
    flux_record = wait_flux(client, flux)
    assert flux_record["successFlag"] == 1, flux_record
    upstream.delete_media()
    urls = four_record["response"]["resultUrls"]
    assert len(urls) == 2
    for url in urls:
        own(front, url)
        assert image_of(fetch(client, url)).size == (1536, 1024)
    image = flux_record["response"]["resultImageUrl"]
    own(front, image)
    picture = image_of(fetch(client, image))
    assert picture.width > picture.height
    assert faults.seen["POST /api/v1/gpt4o-image/generate"] == 1
    assert faults.seen["POST /api/v1/flux/kontext/generate"] == 1


CONTINUE_AT = 10  # the extension: 10 s of the song, then 34 s more (its prompt is one line)


def test_extends_of_upstream_tasks_name_the_upstreams_parents(
    front: RunningServer, upstream: UpstreamServer, faults: FaultProxy
) -> None:
    client = front.client()
    veo = client.post(  # the shortest Veo video: 4 s, 11 s extended
        "/api/v1/veo/generate", json={"prompt": "a train", "model": "veo3_fast", "duration": 4}
    ).json()["data"]["taskId"]
    assert (
        wait_record(client, "/api/v1/veo/record-info", veo, lambda d: d["successFlag"] != 0)[
            "successFlag"
        ]
        == 1
    )
    one_line = custom_song("[Verse]\nNeon rivers running through the night")  # a 34 s song
    song = client.post("/api/v1/generate", json=one_line).json()["data"]["taskId"]
    song_record = wait_music(client, song)
    assert song_record["status"] == "SUCCESS", song_record

    extended = client.post(
        "/api/v1/veo/extend", json={"taskId": veo, "prompt": "and then it rains", "model": "fast"}
    ).json()
    assert extended["code"] == 200, extended
    record = wait_record(
        client,
        "/api/v1/veo/record-info",
        extended["data"]["taskId"],
        lambda d: d["successFlag"] != 0,
    )
    assert record["successFlag"] == 1, record
    whole = video_info(fetch(client, record["response"]["fullResultUrls"][0]))
    part = video_info(fetch(client, record["response"]["resultUrls"][0]))
    assert whole.seconds > part.seconds > 0
    veo_parent = detail(client, veo)["upstream"]["taskId"]
    sent = upstream_request(
        upstream, detail(client, extended["data"]["taskId"])["upstream"]["taskId"]
    )
    assert sent["taskId"] == veo_parent  # the upstream's own id of the parent

    audio_id = song_record["response"]["sunoData"][0]["id"]
    body = {
        "defaultParamFlag": True,
        "audioId": audio_id,
        "prompt": "And the city sleeps",
        "style": "synth pop",
        "title": "Neon Rivers II",
        "continueAt": CONTINUE_AT,
        "model": "V4_5",
        "callBackUrl": "https://example.com/cb",
    }
    answer = client.post("/api/v1/generate/extend", json=body).json()
    assert answer["code"] == 200, answer
    longer = wait_music(client, answer["data"]["taskId"])
    assert longer["status"] == "SUCCESS", longer
    assert longer["parentMusicId"] == audio_id
    sent = upstream_request(
        upstream, detail(client, answer["data"]["taskId"])["upstream"]["taskId"]
    )
    upstream_song = detail(client, song)["upstream"]["taskId"]
    [row] = [r for r in upstream.task_rows() if r["id"] == upstream_song]
    result = json.loads(row["result"]) if isinstance(row["result"], str) else row["result"]
    upstream_tracks = [a["data"]["id"] for a in result["artifacts"] if a["role"] == "track"]
    assert sent["audioId"] != audio_id
    assert sent["audioId"] == upstream_tracks[0]  # the upstream's id of the track extended
    extended_audio = audio_at(client, longer["response"]["sunoData"][0]["audioUrl"])
    assert extended_audio.seconds > CONTINUE_AT


def test_a_data_uri_reaches_the_upstream_through_its_upload_api(
    front: RunningServer, upstream: UpstreamServer, faults: FaultProxy
) -> None:
    client = front.client()
    picture = "data:image/png;base64," + base64.b64encode(png_bytes(320, 240)).decode()
    task_id = market(
        client,
        "nano-banana-pro",
        {"prompt": "make it blue", "image_input": [picture], "aspect_ratio": "4:3"},
    )
    record = market_done(client, task_id)
    assert record["state"] == "success", record
    assert faults.seen["POST /api/file-stream-upload"] == 1
    sent = upstream_request(upstream, detail(client, task_id)["upstream"]["taskId"])
    [uploaded] = sent["input"]["image_input"]
    assert uploaded.startswith(upstream.base_url + "/files/"), uploaded
    assert image_of(fetch(httpx.Client(), uploaded)).size == (320, 240)


# --- outages, refusals and limits ------------------------------------------------


def test_an_upstream_answering_503_then_hanging_falls_back_to_the_next_engine(
    front: RunningServer, faults: FaultProxy
) -> None:
    client = front.client()
    faults.fail("503", times=2)
    faults.mode = "hang"
    task_id = market(client, "nano-banana-pro", {"prompt": "fallback", "aspect_ratio": "1:1"})
    record = market_done(client, task_id)
    faults.mode = "pass"
    assert record["state"] == "success", record
    assert "upstream" not in json.dumps(record)
    info = detail(client, task_id)
    assert info["engine"] == "synthetic", info
    [tried] = info["tried"]
    assert tried["engine"] == "upstream:test"
    assert "ReadTimeout" in tried["reason"], tried
    assert faults.faults["503"] == 2 and faults.faults["hang"] == 1
    image = image_of(fetch(client, result_urls(record)[0]))
    assert image.width == image.height


def test_without_a_fallback_an_upstream_outage_fails_after_the_retries_refunded(
    front: RunningServer, faults: FaultProxy
) -> None:
    add_key(front, "outage", credits=1000)
    client = front.client("outage")
    faults.mode = "503"
    task_id = market(
        client, "kling-2.6/text-to-video", {"prompt": "x", "duration": "5", "sound": False}
    )
    charged = 1000 - balance(front, "outage")
    assert charged > 0
    record = market_done(client, task_id)
    faults.mode = "pass"
    assert record["state"] == "fail", record
    assert record["failCode"] == "500"
    assert "upstream test" in record["failMsg"] and "503" in record["failMsg"], record
    assert faults.seen["POST /api/v1/jobs/createTask"] == 3  # 1 + 2 retries
    assert balance(front, "outage") == 1000
    info = detail(client, task_id)
    assert info["credits"] == {"charged": charged, "refunded": True}


def test_an_upstream_422_fails_the_task_at_once_with_its_message_refunded(
    front: RunningServer, faults: FaultProxy
) -> None:
    add_key(front, "refused", credits=500)
    client = front.client("refused")
    faults.messages["422"] = "input.prompt: is not allowed upstream"
    faults.fail("422")
    task_id = market(client, "nano-banana-pro", {"prompt": "no", "aspect_ratio": "1:1"})
    record = market_done(client, task_id)
    assert record["state"] == "fail", record
    assert record["failCode"] == "422"
    assert record["failMsg"] == "input.prompt: is not allowed upstream"
    assert faults.seen["POST /api/v1/jobs/createTask"] == 1  # no retry
    info = detail(client, task_id)
    assert info["engine"] == "upstream:test" and info["tried"] == []  # no fallback either
    assert balance(front, "refused") == 500


def test_a_429_is_retried_after_its_retry_after(front: RunningServer, faults: FaultProxy) -> None:
    client = front.client()
    faults.fail("429")
    task_id = market(
        client, "kling-2.6/text-to-video", {"prompt": "y", "duration": "5", "sound": False}
    )
    record = market_done(client, task_id)
    assert record["state"] == "success", record
    first, second = faults.times["POST /api/v1/jobs/createTask"]
    assert second - first >= 0.95  # Retry-After: 1
    assert detail(client, task_id)["engine"] == "upstream:test"


def test_a_402_upstream_is_reported_and_fails_the_task_clearly(
    front: RunningServer, faults: FaultProxy
) -> None:
    client = front.client()
    before = PAYMENT_REQUIRED.get("test", 0)
    faults.fail("402")
    task_id = market(
        client, "kling-2.6/text-to-video", {"prompt": "z", "duration": "5", "sound": False}
    )
    record = market_done(client, task_id)
    assert record["state"] == "fail", record
    assert "upstream test: its key has no credits left" in record["failMsg"], record
    assert "402" in record["failMsg"]
    assert PAYMENT_REQUIRED["test"] == before + 1
    assert faults.seen["POST /api/v1/jobs/createTask"] == 1


def test_the_concurrency_cap_queues_tasks_one_at_a_time(
    front: RunningServer, upstream: UpstreamServer, faults: FaultProxy
) -> None:
    client = front.client()
    ids = [
        market(client, "nano-banana-pro", {"prompt": f"cap {i}", "aspect_ratio": "1:1"})
        for i in range(3)
    ]
    most = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        states = [detail(client, t)["status"] for t in ids]
        most = max(most, states.count("running"))
        if all(s == "succeeded" for s in states):
            break
        time.sleep(0.05)
    assert all(detail(client, t)["status"] == "succeeded" for t in ids)
    assert most == 1
    assert all(detail(client, t)["engine"] == "upstream:test" for t in ids)  # queued, not refused


def test_models_list_shows_the_route_with_its_fallbacks(front: RunningServer) -> None:
    models = front.client().get("/api/v1/jobs/models").json()["data"]
    by_name = {m["model"]: m for m in models}
    assert by_name["nano-banana-pro"]["engine"] == "upstream:test"
    assert by_name["nano-banana-pro"]["engines"] == ["upstream:test", "synthetic"]
    assert by_name["kling-2.6/text-to-video"]["engines"] == ["upstream:test"]


# --- callbacks from the upstream -------------------------------------------------


def test_the_upstream_callback_path_is_signed_per_task(front: RunningServer) -> None:
    secret = front.settings.resolved_signing_secret()
    good = callback_signature(secret, "some-task")
    path = "/api/v1/upstream/callback/some-task"
    bad = httpx.post(front.base_url + path, params={"sig": "0" * 32}).json()
    assert bad["code"] == 404
    assert httpx.post(front.base_url + path, params={"sig": good}).json()["code"] == 200
    assert callback_signature(secret, "other-task") != good


def test_an_upstream_callback_finishes_the_task_before_the_next_poll(
    tmp_path: Any, upstream: UpstreamServer
) -> None:
    # Polls every 60 s at most, starting after 6 s: only the callback can end it sooner.
    config = upstream.config(name="calling", poll_s=60, callbacks=True)
    with run_server(
        tmp_path, routes="nano-banana-*=upstream:calling;*=synthetic", upstreams={"calling": config}
    ) as server:
        client = server.client()
        started = time.monotonic()
        task_id = market(client, "nano-banana-pro", {"prompt": "call me", "aspect_ratio": "1:1"})
        record = market_done(client, task_id)
        assert record["state"] == "success", record
        assert time.monotonic() - started < 5.5


def test_an_unconfigured_upstream_in_a_route_stops_the_start_naming_the_setting(
    tmp_path: Any,
) -> None:
    with (
        pytest.raises(Exception, match="REELSERVE_UPSTREAM_NOWHERE_URL"),
        run_server(tmp_path, routes="*=upstream:nowhere"),
    ):
        pass


def test_upstream_urls_lose_their_trailing_slash_and_uploads_default_to_the_api_host() -> None:
    config = UpstreamConfig(name="x", url="http://127.0.0.1:1/")
    assert config.url == "http://127.0.0.1:1" and config.uploads_at == config.url


def test_result_files_on_another_host_never_get_the_upstream_key(tmp_path: Any) -> None:
    import asyncio
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from reelserve.upstream.client import UpstreamClient

    seen: list[str | None] = []
    picture = png_bytes(8, 8)

    class Files(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization"))
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(picture)))
            self.end_headers()
            self.wfile.write(picture)

        def log_message(self, *args: Any) -> None:
            pass

    cdn = ThreadingHTTPServer(("127.0.0.1", 0), Files)
    threading.Thread(target=cdn.serve_forever, daemon=True).start()
    try:
        config = UpstreamConfig(name="k", url="http://127.0.0.1:9", key="sk-secret")
        client = UpstreamClient(config, allow_private=True)
        url = f"http://127.0.0.1:{cdn.server_address[1]}/r.png"
        kind = asyncio.run(client.download(url, tmp_path / "r", 1 << 20))
        assert kind == "image/png" and (tmp_path / "r").read_bytes() == picture
        assert seen == [None]
        # And the URL guard applies to them: a private address is refused when not allowed.
        guarded = UpstreamClient(config, allow_private=False)
        with pytest.raises(Exception, match=r"private|loopback|blocked|refused"):
            asyncio.run(guarded.download(url, tmp_path / "g", 1 << 20))
    finally:
        cdn.shutdown()
