"""Spec §1.1-1.3 over real HTTP: every rule of generate, record-detail and extend.

A worker-less server keeps tasks `queueing`, so nothing here encodes a video:
a rule that needs a parent task uses a queued one and relies on the order of
the checks (body rules first, then the parent's state).
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support import RunningServer, accepted, envelope_of, png_bytes, run_server

GENERATE = "/api/v1/runway/generate"
EXTEND = "/api/v1/runway/extend"
DETAIL = "/api/v1/runway/record-detail"
DROP = object()
"""Marks a field to remove from the valid body."""

RECORD_KEYS = {
    "taskId",
    "parentTaskId",
    "generateParam",
    "state",
    "generateTime",
    "videoInfo",
    "failCode",
    "failMsg",
    "expireFlag",
}
ADDITIVE_KEYS = {"progress", "queuePosition"}
RUNWAY_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
PNG_DATA_URI = "data:image/png;base64," + base64.b64encode(png_bytes(64, 48)).decode()


@pytest.fixture(scope="module")
def quiet(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[RunningServer]:
    """A server without a task worker: accepted tasks stay `queueing`."""
    with run_server(
        tmp_path_factory.mktemp("validation"), run_worker=False, backend=backend
    ) as running:
        yield running


@pytest.fixture(scope="module")
def alice(quiet: RunningServer) -> httpx.Client:
    return quiet.client("alice")


@pytest.fixture(scope="module")
def bob(quiet: RunningServer) -> httpx.Client:
    return quiet.client("bob")


@pytest.fixture(scope="module")
def queued_task(alice: httpx.Client) -> str:
    """One of alice's tasks, forever `queueing` on the worker-less server."""
    return accepted(alice.post(GENERATE, json=generate_body()))


def generate_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "prompt": "A red fox running through snow",
        "duration": 5,
        "quality": "720p",
        "aspectRatio": "16:9",
    }
    return _apply(body, changes)


def extend_body(task_id: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"taskId": task_id, "prompt": "The fox jumps", "quality": "720p"}
    return _apply(body, changes)


def _apply(body: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    for name, value in changes.items():
        if value is DROP:
            body.pop(name, None)
        else:
            body[name] = value
    return body


def rejected(response: httpx.Response, code: int, field: str | None = None) -> str:
    """Assert an error envelope with `code` whose msg names `field`; returns msg."""
    body = envelope_of(response)
    assert body["code"] == code, body
    assert body["data"] is None, body
    if field is not None:
        assert re.search(rf"\b{re.escape(field)}\b", body["msg"]), body
    return str(body["msg"])


def detail(client: httpx.Client, task_id: str) -> dict[str, Any]:
    body = envelope_of(client.get(DETAIL, params={"taskId": task_id}))
    assert body["code"] == 200, body
    data: dict[str, Any] = body["data"]
    return data


# --- §1.1 generate: prompt ------------------------------------------------------------------


def test_generate_with_a_valid_text_request_is_accepted_with_a_uuid4_task_id(
    alice: httpx.Client,
) -> None:
    accepted(alice.post(GENERATE, json=generate_body()))


def test_prompt_missing_is_422_naming_prompt(alice: httpx.Client) -> None:
    rejected(alice.post(GENERATE, json=generate_body(prompt=DROP)), 422, "prompt")


def test_prompt_empty_is_422_naming_prompt(alice: httpx.Client) -> None:
    rejected(alice.post(GENERATE, json=generate_body(prompt="")), 422, "prompt")


def test_prompt_of_only_whitespace_is_422_naming_prompt(alice: httpx.Client) -> None:
    rejected(alice.post(GENERATE, json=generate_body(prompt=" \t\n ")), 422, "prompt")


def test_prompt_of_1801_characters_is_422_naming_prompt(alice: httpx.Client) -> None:
    rejected(alice.post(GENERATE, json=generate_body(prompt="a" * 1801)), 422, "prompt")


def test_prompt_of_exactly_1800_characters_is_accepted(alice: httpx.Client) -> None:
    task_id = accepted(alice.post(GENERATE, json=generate_body(prompt="a" * 1800)))
    assert detail(alice, task_id)["generateParam"]["prompt"] == "a" * 1800


@pytest.mark.parametrize("value", [42, 4.5, True, ["a fox"], {"text": "a fox"}], ids=repr)
def test_prompt_that_is_not_a_string_is_422_naming_prompt(alice: httpx.Client, value: Any) -> None:
    rejected(alice.post(GENERATE, json=generate_body(prompt=value)), 422, "prompt")


# --- §1.1 generate: duration ----------------------------------------------------------------


def test_duration_missing_is_422_naming_duration(alice: httpx.Client) -> None:
    rejected(alice.post(GENERATE, json=generate_body(duration=DROP)), 422, "duration")


@pytest.mark.parametrize(
    "value", [7, 0, -5, 15, 5.5, "7", "abc", "", True, False, [5], {"s": 5}], ids=repr
)
def test_duration_other_than_5_or_10_is_422_naming_duration(
    alice: httpx.Client, value: Any
) -> None:
    rejected(alice.post(GENERATE, json=generate_body(duration=value)), 422, "duration")


@pytest.mark.parametrize("value", [5, 10, "5", "10", 5.0, 10.0, " 5 "], ids=repr)
def test_duration_5_or_10_as_number_numeric_string_or_whole_float_is_accepted(
    alice: httpx.Client, value: Any
) -> None:
    accepted(alice.post(GENERATE, json=generate_body(duration=value)))


# --- §1.1 generate: quality -----------------------------------------------------------------


def test_quality_missing_is_422_naming_quality(alice: httpx.Client) -> None:
    rejected(alice.post(GENERATE, json=generate_body(quality=DROP)), 422, "quality")


@pytest.mark.parametrize("value", ["480p", "720", "4k", "720P ", 720], ids=repr)
def test_quality_other_than_720p_or_1080p_is_422_naming_quality(
    alice: httpx.Client, value: Any
) -> None:
    rejected(alice.post(GENERATE, json=generate_body(quality=value)), 422, "quality")


def test_1080p_with_duration_10_is_422_naming_quality(alice: httpx.Client) -> None:
    body = generate_body(quality="1080p", duration=10)
    rejected(alice.post(GENERATE, json=body), 422, "quality")


def test_1080p_with_duration_5_is_accepted(alice: httpx.Client) -> None:
    accepted(alice.post(GENERATE, json=generate_body(quality="1080p", duration="5")))


# --- §1.1 generate: aspectRatio and imageUrl ------------------------------------------------


def test_aspect_ratio_missing_without_image_url_is_422_naming_aspect_ratio(
    alice: httpx.Client,
) -> None:
    rejected(alice.post(GENERATE, json=generate_body(aspectRatio=DROP)), 422, "aspectRatio")


@pytest.mark.parametrize("ratio", ["16:9", "4:3", "1:1", "3:4", "9:16"])
def test_each_documented_aspect_ratio_is_accepted(alice: httpx.Client, ratio: str) -> None:
    accepted(alice.post(GENERATE, json=generate_body(aspectRatio=ratio)))


@pytest.mark.parametrize("ratio", ["2:1", "16/9", "16:10", "1", 1.5])
def test_invalid_aspect_ratio_without_image_url_is_422_naming_aspect_ratio(
    alice: httpx.Client, ratio: Any
) -> None:
    rejected(alice.post(GENERATE, json=generate_body(aspectRatio=ratio)), 422, "aspectRatio")


def test_invalid_aspect_ratio_with_image_url_is_still_422_naming_aspect_ratio(
    alice: httpx.Client,
) -> None:
    body = generate_body(aspectRatio="2:1", imageUrl="https://example.com/cat.png")
    rejected(alice.post(GENERATE, json=body), 422, "aspectRatio")


def test_image_url_without_aspect_ratio_is_accepted_because_the_image_decides(
    alice: httpx.Client,
) -> None:
    body = generate_body(aspectRatio=DROP, imageUrl="https://example.com/cat.png")
    task_id = accepted(alice.post(GENERATE, json=body))
    assert detail(alice, task_id)["generateParam"]["imageUrl"] == "https://example.com/cat.png"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/cat.png",
        "javascript:alert(1)",
        "not a url",
        "file:///etc/passwd",
        "http://",
        "//example.com/cat.png",
    ],
)
def test_image_url_that_is_not_http_is_422_naming_image_url(alice: httpx.Client, url: str) -> None:
    rejected(alice.post(GENERATE, json=generate_body(imageUrl=url)), 422, "imageUrl")


def test_image_url_that_is_not_a_string_is_422_naming_image_url(alice: httpx.Client) -> None:
    body = generate_body(imageUrl={"url": "https://example.com/cat.png"})
    rejected(alice.post(GENERATE, json=body), 422, "imageUrl")


def test_data_uri_with_bad_base64_is_422_naming_image_url(alice: httpx.Client) -> None:
    body = generate_body(imageUrl="data:image/png;base64,this is not base64!!")
    rejected(alice.post(GENERATE, json=body), 422, "imageUrl")


def test_data_uri_with_a_non_image_mime_is_422_naming_image_url(alice: httpx.Client) -> None:
    body = generate_body(imageUrl="data:text/plain;base64," + base64.b64encode(b"hello").decode())
    rejected(alice.post(GENERATE, json=body), 422, "imageUrl")


def test_data_uri_without_base64_marker_is_422_naming_image_url(alice: httpx.Client) -> None:
    body = generate_body(imageUrl="data:image/png,rawbytes")
    rejected(alice.post(GENERATE, json=body), 422, "imageUrl")


def test_data_uri_over_10_mb_decoded_is_422_naming_image_url(alice: httpx.Client) -> None:
    payload = png_bytes(8, 8) + bytes(10 * 1024 * 1024)
    body = generate_body(imageUrl="data:image/png;base64," + base64.b64encode(payload).decode())
    rejected(alice.post(GENERATE, json=body), 422, "imageUrl")


def test_small_png_data_uri_is_accepted_and_served_back_as_a_url(alice: httpx.Client) -> None:
    body = generate_body(aspectRatio=DROP, imageUrl=PNG_DATA_URI)
    task_id = accepted(alice.post(GENERATE, json=body))
    image_url = detail(alice, task_id)["generateParam"]["imageUrl"]
    assert image_url.startswith("http"), image_url
    assert not image_url.startswith("data:"), image_url


@pytest.mark.parametrize(
    "url", ["ftp://example.com/hook", "javascript:alert(1)", "not a url", "example.com/hook"]
)
def test_callback_url_that_is_not_http_is_422_naming_callback_url(
    alice: httpx.Client, url: str
) -> None:
    rejected(alice.post(GENERATE, json=generate_body(callBackUrl=url)), 422, "callBackUrl")


def test_callback_url_over_https_is_accepted(alice: httpx.Client) -> None:
    accepted(alice.post(GENERATE, json=generate_body(callBackUrl="https://example.com/hook")))


def test_water_mark_that_is_not_a_string_is_422_naming_water_mark(alice: httpx.Client) -> None:
    rejected(alice.post(GENERATE, json=generate_body(waterMark=123)), 422, "waterMark")


def test_water_mark_text_is_accepted(alice: httpx.Client) -> None:
    accepted(alice.post(GENERATE, json=generate_body(waterMark="reelserve")))


# --- §0 leniency on generate ----------------------------------------------------------------


@pytest.mark.parametrize("field", ["imageUrl", "waterMark", "callBackUrl"])
@pytest.mark.parametrize("absent", ["", None], ids=["empty", "null"])
def test_empty_string_or_null_in_an_optional_field_means_absent(
    alice: httpx.Client, field: str, absent: str | None
) -> None:
    task_id = accepted(alice.post(GENERATE, json=generate_body(**{field: absent})))
    assert detail(alice, task_id)["generateParam"]["imageUrl"] == ""


@pytest.mark.parametrize("absent", ["", None], ids=["empty", "null"])
def test_empty_or_null_aspect_ratio_with_an_image_is_accepted(
    alice: httpx.Client, absent: str | None
) -> None:
    body = generate_body(aspectRatio=absent, imageUrl="https://example.com/cat.png")
    accepted(alice.post(GENERATE, json=body))


@pytest.mark.parametrize("absent", ["", None], ids=["empty", "null"])
def test_empty_image_url_without_aspect_ratio_is_422_naming_aspect_ratio(
    alice: httpx.Client, absent: str | None
) -> None:
    body = generate_body(aspectRatio=DROP, imageUrl=absent)
    rejected(alice.post(GENERATE, json=body), 422, "aspectRatio")


def test_empty_image_url_with_aspect_ratio_is_a_text_to_video_request(alice: httpx.Client) -> None:
    body = generate_body(imageUrl="", waterMark="", callBackUrl="")
    task_id = accepted(alice.post(GENERATE, json=body))
    assert detail(alice, task_id)["generateParam"]["imageUrl"] == ""


def test_legacy_and_unknown_extra_fields_are_ignored(alice: httpx.Client) -> None:
    body = generate_body(model="gen3", expandPrompt=True, foo={"bar": [1, None]}, seed="42")
    task_id = accepted(alice.post(GENERATE, json=body))
    assert detail(alice, task_id)["generateParam"]["expandPrompt"] is True


def test_expand_prompt_absent_reads_back_as_false(alice: httpx.Client) -> None:
    task_id = accepted(alice.post(GENERATE, json=generate_body()))
    assert detail(alice, task_id)["generateParam"] == {
        "prompt": "A red fox running through snow",
        "imageUrl": "",
        "expandPrompt": False,
    }


def test_json_body_without_content_type_is_accepted(alice: httpx.Client) -> None:
    response = alice.post(GENERATE, content=json.dumps(generate_body()).encode())
    assert "content-type" not in response.request.headers
    accepted(response)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/octet-stream"]
)
def test_json_body_with_another_content_type_is_accepted(
    alice: httpx.Client, content_type: str
) -> None:
    response = alice.post(
        GENERATE,
        content=json.dumps(generate_body()).encode(),
        headers={"Content-Type": content_type},
    )
    accepted(response)


@pytest.mark.parametrize(
    "raw",
    [b"prompt=fox&duration=5", b"{not json", b"{'prompt': 'fox'}", b"\xff\xfe\x00garbage"],
    ids=["form", "broken", "single-quotes", "binary"],
)
def test_body_that_is_not_json_is_422(alice: httpx.Client, raw: bytes) -> None:
    rejected(alice.post(GENERATE, content=raw), 422)


@pytest.mark.parametrize("raw", [b"[]", b'[{"prompt": "fox"}]', b'"fox"', b"5", b"null", b"true"])
def test_body_that_is_json_but_not_an_object_is_422(alice: httpx.Client, raw: bytes) -> None:
    rejected(alice.post(GENERATE, content=raw), 422)


@pytest.mark.parametrize("raw", [b"", b"  \n", b"{}"], ids=["empty", "whitespace", "empty-object"])
def test_empty_body_is_422_naming_prompt(alice: httpx.Client, raw: bytes) -> None:
    rejected(alice.post(GENERATE, content=raw), 422, "prompt")


# --- §1.2 record-detail ---------------------------------------------------------------------


def test_record_detail_without_task_id_is_422_naming_task_id(alice: httpx.Client) -> None:
    rejected(alice.get(DETAIL), 422, "taskId")


@pytest.mark.parametrize("value", ["", "   "], ids=["empty", "whitespace"])
def test_record_detail_with_empty_task_id_is_422_naming_task_id(
    alice: httpx.Client, value: str
) -> None:
    rejected(alice.get(DETAIL, params={"taskId": value}), 422, "taskId")


@pytest.mark.parametrize(
    "value",
    # A fixed id for the fresh UUID: every pytest-xdist process must collect the same names.
    [pytest.param(str(uuid.uuid4()), id="fresh-uuid"), "nope", "../../etc/passwd", "' OR 1=1 --"],
)
def test_record_detail_of_an_unknown_task_is_404(alice: httpx.Client, value: str) -> None:
    rejected(alice.get(DETAIL, params={"taskId": value}), 404)


def test_record_detail_of_another_keys_task_is_404(bob: httpx.Client, queued_task: str) -> None:
    rejected(bob.get(DETAIL, params={"taskId": queued_task}), 404)


def test_record_detail_get_with_json_content_type_and_no_body_works(
    alice: httpx.Client, queued_task: str
) -> None:
    response = alice.get(
        DETAIL, params={"taskId": queued_task}, headers={"Content-Type": "application/json"}
    )
    body = envelope_of(response)
    assert body["code"] == 200, body
    assert body["data"]["taskId"] == queued_task


def test_record_detail_has_exactly_the_documented_keys_and_no_status(
    alice: httpx.Client, queued_task: str
) -> None:
    data = detail(alice, queued_task)
    assert "status" not in data
    assert RECORD_KEYS <= set(data) <= RECORD_KEYS | ADDITIVE_KEYS, sorted(data)
    assert data["taskId"] == queued_task
    assert data["parentTaskId"] == ""
    assert set(data["generateParam"]) == {"prompt", "imageUrl", "expandPrompt"}
    assert data["generateParam"]["prompt"] == "A red fox running through snow"
    assert data["generateParam"]["imageUrl"] == ""
    assert data["generateParam"]["expandPrompt"] is False
    assert data["state"] in {"wait", "queueing", "generating", "success", "fail"}
    assert RUNWAY_TIME.match(data["generateTime"]), data["generateTime"]
    assert data["videoInfo"] is None
    assert data["failCode"] is None
    assert data["failMsg"] == ""
    assert data["expireFlag"] == 0


def test_worker_less_server_keeps_tasks_queueing_with_positions_in_submission_order(
    tmp_path: Any,
) -> None:
    with run_server(tmp_path / "data", run_worker=False) as server:
        alice = server.client("alice")
        ids = [
            accepted(alice.post(GENERATE, json=generate_body(prompt=f"clip {i}"))) for i in range(3)
        ]
        records = [detail(alice, task_id) for task_id in ids]
    assert [r["state"] for r in records] == ["queueing"] * 3
    assert [r["queuePosition"] for r in records] == [1, 2, 3]
    assert [r["progress"] for r in records] == [0, 0, 0]
    assert [r["generateParam"]["prompt"] for r in records] == ["clip 0", "clip 1", "clip 2"]
    assert all(RUNWAY_TIME.match(r["generateTime"]) for r in records)


# --- §1.3 extend ----------------------------------------------------------------------------


def test_extend_without_task_id_is_422_naming_task_id(alice: httpx.Client) -> None:
    rejected(alice.post(EXTEND, json=extend_body("x", taskId=DROP)), 422, "taskId")


@pytest.mark.parametrize("value", ["", "   ", None], ids=["empty", "whitespace", "null"])
def test_extend_with_empty_task_id_is_422_naming_task_id(alice: httpx.Client, value: Any) -> None:
    rejected(alice.post(EXTEND, json=extend_body("x", taskId=value)), 422, "taskId")


def test_extend_with_a_non_string_task_id_is_422_naming_task_id(alice: httpx.Client) -> None:
    rejected(alice.post(EXTEND, json=extend_body("x", taskId=12345)), 422, "taskId")


def test_extend_of_an_unknown_task_is_404(alice: httpx.Client) -> None:
    rejected(alice.post(EXTEND, json=extend_body(str(uuid.uuid4()))), 404)


def test_extend_of_another_keys_task_is_404(bob: httpx.Client, queued_task: str) -> None:
    rejected(bob.post(EXTEND, json=extend_body(queued_task)), 404)


def test_extend_of_a_task_still_queueing_is_422_naming_task_id(
    alice: httpx.Client, queued_task: str
) -> None:
    rejected(alice.post(EXTEND, json=extend_body(queued_task)), 422, "taskId")


def test_extend_prompt_missing_is_422_naming_prompt(alice: httpx.Client, queued_task: str) -> None:
    rejected(alice.post(EXTEND, json=extend_body(queued_task, prompt=DROP)), 422, "prompt")


@pytest.mark.parametrize("value", ["", "  "], ids=["empty", "whitespace"])
def test_extend_prompt_empty_is_422_naming_prompt(
    alice: httpx.Client, queued_task: str, value: str
) -> None:
    rejected(alice.post(EXTEND, json=extend_body(queued_task, prompt=value)), 422, "prompt")


def test_extend_prompt_of_2049_characters_is_422_naming_prompt(
    alice: httpx.Client, queued_task: str
) -> None:
    rejected(alice.post(EXTEND, json=extend_body(queued_task, prompt="a" * 2049)), 422, "prompt")


def test_extend_prompt_of_2048_characters_passes_validation(
    alice: httpx.Client, queued_task: str
) -> None:
    # The parent is still queueing, so the answer is the not-success 422 about taskId:
    # that proves the 2048-character prompt itself was accepted.
    body = extend_body(queued_task, prompt="a" * 2048)
    msg = rejected(alice.post(EXTEND, json=body), 422, "taskId")
    assert not re.search(r"\bprompt\b", msg), msg


def test_extend_quality_missing_is_422_naming_quality(
    alice: httpx.Client, queued_task: str
) -> None:
    rejected(alice.post(EXTEND, json=extend_body(queued_task, quality=DROP)), 422, "quality")


@pytest.mark.parametrize("value", ["480p", "4k", "", 720], ids=repr)
def test_extend_quality_invalid_is_422_naming_quality(
    alice: httpx.Client, queued_task: str, value: Any
) -> None:
    rejected(alice.post(EXTEND, json=extend_body(queued_task, quality=value)), 422, "quality")


@pytest.mark.parametrize("quality", ["720p", "1080p"])
def test_extend_valid_quality_passes_validation(
    alice: httpx.Client, queued_task: str, quality: str
) -> None:
    msg = rejected(
        alice.post(EXTEND, json=extend_body(queued_task, quality=quality)), 422, "taskId"
    )
    assert not re.search(r"\bquality\b", msg), msg


def test_extend_callback_url_not_http_is_422_naming_callback_url(
    alice: httpx.Client, queued_task: str
) -> None:
    body = extend_body(queued_task, callBackUrl="ftp://example.com/hook")
    rejected(alice.post(EXTEND, json=body), 422, "callBackUrl")


def test_extend_ignores_empty_optional_fields_and_legacy_extras(
    alice: httpx.Client, queued_task: str
) -> None:
    body = extend_body(queued_task, waterMark="", callBackUrl=None, model="gen3", expandPrompt=True)
    msg = rejected(alice.post(EXTEND, json=body), 422, "taskId")
    assert "callBackUrl" not in msg and "waterMark" not in msg, msg


def test_extend_body_that_is_not_a_json_object_is_422(alice: httpx.Client) -> None:
    rejected(alice.post(EXTEND, content=b"[1, 2]"), 422)
    rejected(alice.post(EXTEND, content=b"taskId=x"), 422)
