"""Veo 3.1 through a real server (kie-families.md §3): generate, record-info, renditions, extend.

Each generation type makes an MP4 that decodes at its ratio with an audio
track; get-1080p-video answers "processing" (HTTP 200, code 400) and then a
real 1920×1080 video; get-4k-video answers 200 with null URLs, then 422 with
the state, and sends the snake_case callback; extend is exactly 7 s longer;
every callback body is the spec's, field by field.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.kie_families import fetch, video_info, wait_veo
from tests.receivers import Receiver
from tests.support import RunningServer, StaticHttpServer, png_bytes, run_server

GENERATE = "/api/v1/veo/generate"
RECORD = "/api/v1/veo/record-info"


@dataclass
class Veo:
    server: RunningServer
    receiver: Receiver
    static: StaticHttpServer
    client: httpx.Client
    parent: str = ""

    def generate(self, body: dict[str, Any]) -> str:
        answer = self.client.post(GENERATE, json=body).json()
        assert answer["code"] == 200, answer
        task_id = str(answer["data"]["taskId"])
        return task_id

    def landscape(self) -> str:
        """One finished 4 s 16:9 text-to-video task, shared by the rendition tests."""
        if not self.parent:
            task_id = self.generate({"prompt": "a lighthouse at dusk", "duration": 4})
            assert wait_veo(self.client, task_id)["successFlag"] == 1
            self.parent = task_id
        return self.parent


@pytest.fixture(scope="module")
def veo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Veo]:
    static = StaticHttpServer()
    with Receiver() as receiver, run_server(tmp_path_factory.mktemp("veo")) as server:
        yield Veo(server, receiver, static, server.client())
    static.close()


def _callback(veo: Veo, path: str) -> dict[str, Any]:
    body: dict[str, Any] = veo.receiver.wait_for(path, 1, timeout=60)[0].json()
    return body


@pytest.mark.parametrize(
    ("kind", "ratio_field", "ratio", "images", "size"),
    [
        ("TEXT_2_VIDEO", "aspectRatio", "16:9", [], (1280, 720)),
        (
            "FIRST_AND_LAST_FRAMES_2_VIDEO",
            "aspect_ratio",
            "9:16",
            [(320, 480), (320, 480)],
            (720, 1280),
        ),
        ("REFERENCE_2_VIDEO", "aspect_ratio", "Auto", [(640, 360)] * 3, (1280, 720)),
    ],
)
def test_each_generation_type_makes_an_mp4_at_its_ratio_with_sound_and_the_spec_callback(
    veo: Veo,
    kind: str,
    ratio_field: str,
    ratio: str,
    images: list[tuple[int, int]],
    size: tuple[int, int],
) -> None:
    urls = [
        veo.static.add(f"/veo/{kind}-{i}.png", png_bytes(w, h), "image/png")
        for i, (w, h) in enumerate(images)
    ]
    body: dict[str, Any] = {
        "prompt": f"a {kind.lower()} test",
        "generationType": kind,
        ratio_field: ratio,
        "duration": 4,
        "seeds": 12345,
        "callBackUrl": veo.receiver.url(f"/cb/{kind}"),
    }
    if urls:
        body["imageUrls"] = urls
    task_id = veo.generate(body)
    assert task_id.startswith("veo_task_") and len(task_id) == len("veo_task_") + 32
    record = wait_veo(veo.client, task_id)
    assert record["successFlag"] == 1, record
    assert record["errorCode"] is None and record["errorMessage"] == ""
    assert record["fallbackFlag"] is False and record["state"] == "success"
    assert json.loads(record["paramJson"])["prompt"] == body["prompt"]
    for name in ("createTime", "completeTime"):
        time.strptime(record[name], "%Y-%m-%d %H:%M:%S")
    response = record["response"]
    assert response["taskId"] == task_id and response["resolution"] == "720p"
    assert json.loads(record["resultJson"]) == {"resultUrls": response["resultUrls"]}
    portrait = size[1] > size[0]
    assert (response["originUrls"] is not None) is portrait
    info = video_info(fetch(veo.client, response["resultUrls"][0]))
    assert (info.width, info.height) == size
    assert info.has_audio
    assert abs(info.seconds - 4) < 0.1
    callback = _callback(veo, f"/cb/{kind}")
    assert callback["code"] == 200
    assert callback["msg"] == "Veo3.1 video generated successfully."
    data = callback["data"]
    assert data["taskId"] == task_id and data["fallbackFlag"] is False
    assert data["info"]["resultUrls"] == response["resultUrls"]
    assert data["info"]["originUrls"] == response["originUrls"]
    assert data["info"]["resolution"] == "720p"
    assert json.loads(data["promptJson"])["prompt"] == body["prompt"]


def test_get_1080p_video_answers_processing_then_a_1920x1080_rendition(veo: Veo) -> None:
    parent = veo.landscape()
    first = veo.client.get("/api/v1/veo/get-1080p-video", params={"taskId": parent, "index": 0})
    assert first.status_code == 200
    body = first.json()
    assert body["code"] == 400
    assert body["msg"] == (
        "1080P is processing. It should be ready in 1-2 minutes. Please check back shortly."
    )
    deadline = time.monotonic() + 300
    while True:
        body = veo.client.get("/api/v1/veo/get-1080p-video", params={"taskId": parent}).json()
        if body["code"] == 200:
            break
        assert body["code"] == 400, body
        assert time.monotonic() < deadline
        time.sleep(0.3)
    url = body["data"]["resultUrl"]
    info = video_info(fetch(veo.client, url))
    assert (info.width, info.height) == (1920, 1080)
    assert abs(info.seconds - 4) < 0.1
    again = veo.client.get("/api/v1/veo/get-1080p-video", params={"taskId": parent}).json()
    assert again["code"] == 200
    # Made once: the same file again.
    assert again["data"]["resultUrl"].split("?")[0] == url.split("?")[0]


def test_get_4k_video_answers_null_urls_then_422_and_sends_the_snake_case_callback(
    veo: Veo,
) -> None:
    parent = veo.landscape()
    callback = veo.receiver.url("/cb/4k")
    first = veo.client.post(
        "/api/v1/veo/get-4k-video", json={"taskId": parent, "index": 0, "callBackUrl": callback}
    ).json()
    assert first["code"] == 200, first
    four_k = first["data"]["taskId"]
    assert first["data"]["resultUrls"] is None and first["data"]["imageUrls"] is None
    deadline = time.monotonic() + 300
    while True:
        body = veo.client.post("/api/v1/veo/get-4k-video", json={"taskId": parent}).json()
        assert body["code"] == 422, body
        assert body["data"]["taskId"] == four_k
        if body["msg"] == "The video has been generated successfully":
            break
        assert body["msg"] == (
            "4k is processing. It should be ready in 5-10 minutes. Please check back shortly."
        )
        assert time.monotonic() < deadline
        time.sleep(0.5)
    info = video_info(fetch(veo.client, body["data"]["resultUrls"][0]))
    assert (info.width, info.height) == (3840, 2160)
    assert len(body["data"]["imageUrls"]) == 1
    sent = _callback(veo, "/cb/4k")
    assert sent["code"] == 200 and sent["msg"] == "4K Video generated successfully."
    assert set(sent["data"]) == {"task_id", "result_urls", "media_ids", "image_urls"}
    assert sent["data"]["task_id"] == four_k
    assert len(sent["data"]["result_urls"]) == 1 and len(sent["data"]["image_urls"]) == 1
    record = wait_veo(veo.client, four_k)
    assert record["successFlag"] == 1


def test_extend_adds_exactly_7_seconds_and_keeps_the_new_part_apart(veo: Veo) -> None:
    parent = veo.landscape()
    answer = veo.client.post(
        "/api/v1/veo/extend",
        json={
            "taskId": parent,
            "prompt": "and then it rains",
            "model": "fast",
            "callBackUrl": veo.receiver.url("/cb/extend"),
        },
    ).json()
    assert answer["code"] == 200, answer
    task_id = answer["data"]["taskId"]
    assert task_id.startswith("veo_extend_")
    record = wait_veo(veo.client, task_id)
    assert record["successFlag"] == 1, record
    response = record["response"]
    whole = video_info(fetch(veo.client, response["fullResultUrls"][0]))
    part = video_info(fetch(veo.client, response["resultUrls"][0]))
    assert abs(whole.seconds - 11) < 0.05, whole
    assert abs(part.seconds - 7) < 0.05, part
    assert (whole.width, whole.height) == (1280, 720) and whole.has_audio
    sent = _callback(veo, "/cb/extend")
    assert sent["code"] == 200 and sent["msg"] == "Veo3.1 video extension successful."
    assert sent["data"]["taskId"] == task_id
    assert sent["data"]["info"]["resultUrls"] == response["resultUrls"]
    assert sent["data"]["info"]["fullResultUrls"] == response["fullResultUrls"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"prompt": "p", "aspect_ratio": "16:9", "aspectRatio": "9:16"}, "aspect_ratio"),
        ({"prompt": "p", "aspectRatio": "4:3"}, "aspectRatio"),
        ({"prompt": "p", "seeds": 9999}, "seeds"),
        ({"prompt": "p", "seeds": 100000}, "seeds"),
        (
            {
                "prompt": "p",
                "generationType": "REFERENCE_2_VIDEO",
                "imageUrls": ["http://127.0.0.1:9/a.png"] * 4,
            },
            "imageUrls",
        ),
        (
            {
                "prompt": "p",
                "generationType": "FIRST_AND_LAST_FRAMES_2_VIDEO",
                "imageUrls": ["http://127.0.0.1:9/a.png"] * 3,
            },
            "imageUrls",
        ),
        ({"prompt": "p", "model": "veo2"}, "model"),
        ({"prompt": "p", "duration": 5}, "duration"),
        ({"prompt": "p", "resolution": "480p"}, "resolution"),
        ({"prompt": "p", "generationType": "IMAGE"}, "generationType"),
        ({}, "prompt"),
    ],
)
def test_bad_generate_input_is_a_422_naming_the_field(
    veo: Veo, body: dict[str, Any], field: str
) -> None:
    answer = veo.client.post(GENERATE, json=body).json()
    assert answer["code"] == 422, answer
    assert answer["msg"].startswith(field), answer


def test_unknown_and_foreign_task_ids_are_not_found_on_every_record_endpoint(veo: Veo) -> None:
    parent = veo.landscape()
    bob = veo.server.client("bob")
    for client, task_id in ((veo.client, "veo_task_" + "0" * 32), (bob, parent)):
        answers = [
            client.get(RECORD, params={"taskId": task_id}),
            client.get("/api/v1/veo/get-1080p-video", params={"taskId": task_id}),
            client.post("/api/v1/veo/get-4k-video", json={"taskId": task_id}),
            client.post("/api/v1/veo/extend", json={"taskId": task_id, "prompt": "more"}),
        ]
        for answer in answers:
            assert answer.status_code == 200
            assert answer.json()["code"] == 404, answer.json()
