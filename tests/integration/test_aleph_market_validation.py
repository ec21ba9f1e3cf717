"""Spec §1.4 (Aleph) and §2/§6 (market) over real HTTP: every rule, the answer shapes.

A worker-less server keeps tasks queued, so nothing here renders a video.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support import RunningServer, accepted, envelope_of, png_bytes, run_server

ALEPH_PATHS = ("/api/v1/aleph", "/api/v1/runway/aleph")
CREATE = "/api/v1/jobs/createTask"
RECORD = "/api/v1/jobs/recordInfo"
MODELS = "/api/v1/jobs/models"
DROP = object()
VIDEO_URL = "https://videos.example.com/source.mp4"
PNG_URI = "data:image/png;base64," + base64.b64encode(png_bytes(32, 24)).decode()
MP4_URI = "data:video/mp4;base64," + base64.b64encode(b"\x00\x00\x00\x18ftypmp42").decode()
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
ALEPH_KEYS = {
    "taskId",
    "paramJson",
    "response",
    "completeTime",
    "createTime",
    "successFlag",
    "errorCode",
    "errorMessage",
    "state",
}
MARKET_KEYS = {
    "taskId",
    "model",
    "state",
    "param",
    "resultJson",
    "failCode",
    "failMsg",
    "costTime",
    "completeTime",
    "createTime",
    "updateTime",
    "progress",
}
SYNTHETIC_MODELS = (
    "synthetic/text-to-video",
    "synthetic/image-to-video",
    "synthetic/video-to-video",
)


@pytest.fixture(scope="module")
def quiet(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[RunningServer]:
    with run_server(
        tmp_path_factory.mktemp("aleph-market"), run_worker=False, backend=backend
    ) as running:
        yield running


@pytest.fixture(scope="module")
def alice(quiet: RunningServer) -> httpx.Client:
    return quiet.client("alice")


def _apply(body: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    for name, value in changes.items():
        if value is DROP:
            body.pop(name, None)
        else:
            body[name] = value
    return body


def aleph_body(**changes: Any) -> dict[str, Any]:
    return _apply({"prompt": "Make it a watercolour", "videoUrl": VIDEO_URL}, changes)


def market_input(model: str = "synthetic/text-to-video", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"prompt": "A fox in the snow"}
    if model.endswith("image-to-video"):
        body["image_url"] = "https://images.example.com/a.png"
    if model.endswith("video-to-video"):
        body["video_url"] = VIDEO_URL
    return _apply(body, changes)


def rejected(response: httpx.Response, code: int, field: str) -> str:
    body = envelope_of(response)
    assert body["code"] == code, body
    assert body["data"] is None, body
    assert re.search(rf"(^|\W){re.escape(field)}\b", body["msg"]), body
    return str(body["msg"])


# --- Aleph: rules ---------------------------------------------------------------------------

ALEPH_BAD = [
    ("prompt", {"prompt": DROP}),
    ("prompt", {"prompt": ""}),
    ("prompt", {"prompt": "   "}),
    ("prompt", {"prompt": "x" * 5001}),
    ("prompt", {"prompt": 12}),
    ("videoUrl", {"videoUrl": DROP}),
    ("videoUrl", {"videoUrl": ""}),
    ("videoUrl", {"videoUrl": "ftp://example.com/a.mp4"}),
    ("videoUrl", {"videoUrl": "not a url"}),
    ("videoUrl", {"videoUrl": "data:image/png;base64,AAAA"}),
    ("videoUrl", {"videoUrl": "data:video/mp4;base64,@@@"}),
    ("videoUrl", {"videoUrl": "data:video/mp4;base64," + "A" * (15 * 2**20)}),
    ("callBackUrl", {"callBackUrl": "mailto:me@example.com"}),
    ("waterMark", {"waterMark": "x" * 201}),
    ("waterMark", {"waterMark": "two\nlines"}),
    ("aspectRatio", {"aspectRatio": "2:1"}),
    ("aspectRatio", {"aspectRatio": 16}),
    ("seed", {"seed": "abc"}),
    ("seed", {"seed": -1}),
    ("seed", {"seed": 2**32}),
    ("seed", {"seed": 1.5}),
    ("seed", {"seed": True}),
    ("referenceImage", {"referenceImage": "gopher://example.com/x.png"}),
    ("referenceImage", {"referenceImage": "data:text/plain;base64,aGk="}),
]


@pytest.mark.parametrize("prefix", ALEPH_PATHS)
@pytest.mark.parametrize(("field", "changes"), ALEPH_BAD)
def test_each_bad_aleph_field_is_422_naming_the_field(
    alice: httpx.Client, prefix: str, field: str, changes: dict[str, Any]
) -> None:
    rejected(alice.post(f"{prefix}/generate", json=aleph_body(**changes)), 422, field)


def test_aleph_refuses_a_private_video_url_when_the_guard_is_on(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    data = tmp_path_factory.mktemp("guarded")
    with run_server(data, run_worker=False, allow_private_urls=False) as guarded:
        client = guarded.client("alice")
        body = aleph_body(videoUrl="http://127.0.0.1/a.mp4")
        rejected(client.post("/api/v1/aleph/generate", json=body), 422, "videoUrl")
        body = aleph_body(referenceImage="http://10.0.0.1/a.png")
        rejected(client.post("/api/v1/aleph/generate", json=body), 422, "referenceImage")


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"aspectRatio": "21:9", "seed": "42", "uploadCn": True, "waterMark": "mark"},
        {"seed": 0, "callBackUrl": "", "waterMark": "", "referenceImage": None},
        {"videoUrl": MP4_URI, "referenceImage": PNG_URI, "model": "aleph", "extra": 1},
        {"prompt": "x" * 5000, "seed": 4294967295},
    ],
)
def test_valid_aleph_requests_are_accepted(alice: httpx.Client, changes: dict[str, Any]) -> None:
    accepted(alice.post("/api/v1/aleph/generate", json=aleph_body(**changes)))


def test_aleph_without_a_key_is_401(quiet: RunningServer) -> None:
    body = envelope_of(quiet.client(None).post("/api/v1/aleph/generate", json=aleph_body()))
    assert body["code"] == 401


# --- Aleph: record-info ---------------------------------------------------------------------


def aleph_info(client: httpx.Client, task_id: str, prefix: str = ALEPH_PATHS[0]) -> dict[str, Any]:
    body = envelope_of(client.get(f"{prefix}/record-info", params={"taskId": task_id}))
    assert body["code"] == 200, body
    return dict(body["data"])


def test_aleph_record_info_of_a_queued_task_has_the_exact_keys_and_running_values(
    alice: httpx.Client,
) -> None:
    body = aleph_body(aspectRatio="1:1", seed="7", uploadCn=False, ignored="x")
    task_id = accepted(alice.post("/api/v1/aleph/generate", json=body))
    data = aleph_info(alice, task_id)
    assert set(data) == ALEPH_KEYS
    assert data["taskId"] == task_id
    assert data["response"] == {"taskId": "", "resultVideoUrl": "", "resultImageUrl": ""}
    assert data["completeTime"] == ""
    assert ISO.match(data["createTime"])
    assert data["successFlag"] == 0
    assert data["errorCode"] == 0
    assert data["errorMessage"] == ""
    assert data["state"] == "queueing"
    param = json.loads(data["paramJson"])
    assert param == {
        "prompt": "Make it a watercolour",
        "videoUrl": VIDEO_URL,
        "aspectRatio": "1:1",
        "seed": 7,
        "uploadCn": False,
    }


def test_aleph_param_json_shows_a_data_uri_as_the_stored_inputs_signed_url(
    quiet: RunningServer, alice: httpx.Client
) -> None:
    task_id = accepted(alice.post("/api/v1/aleph/generate", json=aleph_body(videoUrl=MP4_URI)))
    param = json.loads(aleph_info(alice, task_id)["paramJson"])
    assert param["videoUrl"].startswith(quiet.base_url + "/files/inputs/")
    assert quiet.client(None).get(param["videoUrl"]).content.startswith(b"\x00\x00\x00\x18ftyp")


def test_the_aleph_aliases_answer_exactly_as_the_aleph_paths(alice: httpx.Client) -> None:
    first = accepted(alice.post(f"{ALEPH_PATHS[1]}/generate", json=aleph_body()))
    answers = [
        alice.get(f"{prefix}/record-info", params={"taskId": first}).json()
        for prefix in ALEPH_PATHS
    ]
    assert answers[0] == answers[1]
    for prefix in ALEPH_PATHS:
        missing = alice.get(f"{prefix}/record-info").json()
        unknown = alice.get(f"{prefix}/record-info", params={"taskId": "nope"}).json()
        assert missing["code"] == 422 and "taskId" in missing["msg"]
        assert unknown["code"] == 404


def test_aleph_record_info_does_not_show_other_keys_or_other_dialects_tasks(
    quiet: RunningServer, alice: httpx.Client
) -> None:
    task_id = accepted(alice.post("/api/v1/aleph/generate", json=aleph_body()))
    bob = quiet.client("bob")
    assert bob.get("/api/v1/aleph/record-info", params={"taskId": task_id}).json()["code"] == 404
    detail = alice.get("/api/v1/runway/record-detail", params={"taskId": task_id}).json()
    assert detail["code"] == 404
    market = alice.get(RECORD, params={"taskId": task_id}).json()
    assert market["code"] == 404


# --- Market: rules --------------------------------------------------------------------------


def test_unknown_model_is_422_listing_the_available_models(alice: httpx.Client) -> None:
    body = {"model": "openai/sora-9", "input": {"prompt": "x"}}
    msg = rejected(alice.post(CREATE, json=body), 422, "model")
    for model in SYNTHETIC_MODELS:
        assert model in msg


@pytest.mark.parametrize(
    ("field", "body"),
    [
        ("model", {"input": {"prompt": "x"}}),
        ("model", {"model": "", "input": {"prompt": "x"}}),
        ("model", {"model": 3, "input": {"prompt": "x"}}),
        ("input", {"model": "synthetic/text-to-video"}),
        ("input", {"model": "synthetic/text-to-video", "input": "prompt"}),
        ("callBackUrl", {"model": "synthetic/text-to-video", "input": {"prompt": "x"},
                         "callBackUrl": "ftp://x"}),
    ],
)  # fmt: skip
def test_bad_create_task_envelope_fields_are_422_naming_the_field(
    alice: httpx.Client, field: str, body: dict[str, Any]
) -> None:
    rejected(alice.post(CREATE, json=body), 422, field)


MARKET_BAD = [
    ("input.prompt", {"prompt": DROP}),
    ("input.prompt", {"prompt": ""}),
    ("input.prompt", {"prompt": " "}),
    ("input.prompt", {"prompt": "x" * 5001}),
    ("input.prompt", {"prompt": ["x"]}),
    ("input.duration", {"duration": 0}),
    ("input.duration", {"duration": 11}),
    ("input.duration", {"duration": "eleven"}),
    ("input.duration", {"duration": 2.5}),
    ("input.duration", {"duration": "11"}),
    ("input.resolution", {"resolution": "4k"}),
    ("input.resolution", {"resolution": 720}),
    ("input.aspect_ratio", {"aspect_ratio": "21:9"}),
    ("input.seed", {"seed": -5}),
    ("input.seed", {"seed": "seed"}),
]


@pytest.mark.parametrize("model", SYNTHETIC_MODELS)
@pytest.mark.parametrize(("field", "changes"), MARKET_BAD)
def test_each_bad_market_input_is_422_naming_input_dot_field(
    alice: httpx.Client, model: str, field: str, changes: dict[str, Any]
) -> None:
    body = {"model": model, "input": market_input(model, **changes)}
    msg = rejected(alice.post(CREATE, json=body), 422, field)
    assert msg.startswith(field + ":"), msg


@pytest.mark.parametrize(
    ("model", "field", "changes"),
    [
        ("synthetic/image-to-video", "input.image_url", {"image_url": DROP}),
        ("synthetic/image-to-video", "input.image_url", {"image_url": ""}),
        ("synthetic/image-to-video", "input.image_url", {"image_url": "file:///etc/passwd"}),
        ("synthetic/image-to-video", "input.image_url", {"image_url": MP4_URI}),
        ("synthetic/video-to-video", "input.video_url", {"video_url": DROP}),
        ("synthetic/video-to-video", "input.video_url", {"video_url": ""}),
        ("synthetic/video-to-video", "input.video_url", {"video_url": "nope"}),
        ("synthetic/video-to-video", "input.video_url", {"video_url": PNG_URI}),
    ],
)  # fmt: skip
def test_a_missing_or_bad_source_is_422_naming_input_dot_field(
    alice: httpx.Client, model: str, field: str, changes: dict[str, Any]
) -> None:
    body = {"model": model, "input": market_input(model, **changes)}
    rejected(alice.post(CREATE, json=body), 422, field)


@pytest.mark.parametrize("model", SYNTHETIC_MODELS)
@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"duration": "10", "resolution": "360p", "aspect_ratio": "9:16", "seed": "3"},
        {"duration": 1, "resolution": "1080p", "aspect_ratio": "1:1", "seed": None, "x": 1},
        {"duration": "", "resolution": "", "aspect_ratio": ""},
    ],
)
def test_valid_market_inputs_are_accepted(
    alice: httpx.Client, model: str, changes: dict[str, Any]
) -> None:
    body = {"model": model, "input": market_input(model, **changes), "callBackUrl": ""}
    accepted(alice.post(CREATE, json=body))


def test_market_record_info_of_a_queued_task_has_the_exact_keys_and_running_values(
    alice: httpx.Client,
) -> None:
    submitted = {
        "model": "synthetic/text-to-video",
        "input": {"prompt": "A fox", "duration": "3", "resolution": "480p"},
        "callBackUrl": "https://hooks.example.com/done",
    }
    before = int(time.time() * 1000)
    task_id = accepted(alice.post(CREATE, json=submitted))
    body = envelope_of(alice.get(RECORD, params={"taskId": task_id}))
    assert body["code"] == 200
    data = body["data"]
    assert set(data) == MARKET_KEYS
    assert data["taskId"] == task_id
    assert data["model"] == "synthetic/text-to-video"
    assert data["state"] == "queuing"
    assert json.loads(data["param"]) == submitted
    assert data["resultJson"] == ""
    assert data["failCode"] == ""
    assert data["failMsg"] == ""
    assert data["costTime"] == 0
    assert data["completeTime"] is None
    assert before - 1000 <= data["createTime"] <= int(time.time() * 1000) + 1000
    assert data["updateTime"] >= data["createTime"]
    assert data["progress"] == 0


def test_market_record_info_needs_a_task_id_of_this_key(
    quiet: RunningServer, alice: httpx.Client
) -> None:
    body = {"model": "synthetic/text-to-video", "input": {"prompt": "x"}}
    task_id = accepted(alice.post(CREATE, json=body))
    assert alice.get(RECORD).json()["code"] == 422
    assert alice.get(RECORD, params={"taskId": "nope"}).json()["code"] == 404
    assert quiet.client("bob").get(RECORD, params={"taskId": task_id}).json()["code"] == 404


def test_the_model_list_gives_each_models_operation_engine_and_input_schema(
    alice: httpx.Client,
) -> None:
    body = envelope_of(alice.get(MODELS))
    assert body["code"] == 200
    listed = {m["model"]: m for m in body["data"]}
    assert set(SYNTHETIC_MODELS) <= set(listed)  # with the whole KIE catalogue beside them
    operations = {m: listed[m]["operation"] for m in SYNTHETIC_MODELS}
    assert operations == {
        "synthetic/text-to-video": "text_to_video",
        "synthetic/image-to-video": "image_to_video",
        "synthetic/video-to-video": "video_to_video",
    }
    for model in SYNTHETIC_MODELS:
        schema = listed[model]["inputSchema"]
        assert listed[model]["engine"] == "synthetic"
        props = schema["properties"]
        assert {"prompt", "duration", "resolution", "aspect_ratio", "seed"} <= set(props)
        assert props["resolution"]["enum"] == ["360p", "480p", "720p", "1080p"]
        assert props["duration"]["default"] == 5
        assert props["aspect_ratio"]["default"] == "16:9"
    assert "image_url" in listed["synthetic/image-to-video"]["inputSchema"]["required"]
    assert "video_url" in listed["synthetic/video-to-video"]["inputSchema"]["required"]
    assert envelope_of(httpx.get(alice.base_url.join(MODELS)))["code"] == 401
