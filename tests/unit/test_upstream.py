"""Upstream pieces without a network: configuration, answer classification, Retry-After,
each family's record read, the captured request, which addresses are public."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from email.utils import formatdate
from typing import Any

import pytest

from reelserve.blobs.memory import MemoryBlobStore
from reelserve.tasks.models import Dialect, Status, Task
from reelserve.upstream import capture
from reelserve.upstream.client import (
    UpstreamDown,
    UpstreamRejected,
    UpstreamUnusable,
    classify,
    retry_after_s,
)
from reelserve.upstream.config import upstreams_from_env
from reelserve.upstream.engine import is_public
from reelserve.upstream.wire import (
    FAILED,
    PENDING,
    RUNNING,
    SUCCEEDED,
    NotForwardable,
    paths,
    read,
    upstream_task_id,
)


def task(dialect: Dialect, operation: str = "text_to_video", **params: Any) -> Task:
    return Task(
        id="t1",
        seq=1,
        api_key_id="k",
        dialect=dialect,
        operation=operation,
        engine="upstream:kie",
        status=Status.RUNNING,
        params=params,
        request={},
        parent_id=None,
        callback_url=None,
        created_at=0.0,
        updated_at=0.0,
        started_at=None,
        finished_at=None,
        progress=0.0,
        attempts=1,
        lease_token="x",
        lease_expires_at=None,
        fail_code=None,
        fail_msg="",
        result=None,
    )


# --- configuration -----------------------------------------------------------------


def test_every_setting_is_read_and_names_are_lower_case_with_dashes() -> None:
    configs = upstreams_from_env(
        {
            "REELSERVE_UPSTREAM_MY_KIE_URL": "https://api.kie.ai/",
            "REELSERVE_UPSTREAM_MY_KIE_KEY": "sk",
            "REELSERVE_UPSTREAM_MY_KIE_UPLOAD_URL": "https://uploads.example",
            "REELSERVE_UPSTREAM_MY_KIE_POLL_S": "2",
            "REELSERVE_UPSTREAM_MY_KIE_TIMEOUT_S": "600",
            "REELSERVE_UPSTREAM_MY_KIE_REQUEST_TIMEOUT_S": "7",
            "REELSERVE_UPSTREAM_MY_KIE_CONCURRENCY": "3",
            "REELSERVE_UPSTREAM_MY_KIE_RETRIES": "1",
            "REELSERVE_UPSTREAM_MY_KIE_CALLBACKS": "true",
            "REELSERVE_UPSTREAM_MY_KIE_SHARE_URLS": "false",
            "REELSERVE_UNRELATED": "x",
        }
    )
    c = configs["my-kie"]
    assert c.engine == "upstream:my-kie" and c.url == "https://api.kie.ai" and c.key == "sk"
    assert c.uploads_at == "https://uploads.example"
    assert (c.poll_s, c.timeout_s, c.request_timeout_s) == (2, 600, 7)
    assert (c.concurrency, c.retries, c.callbacks, c.share_urls) == (3, 1, True, False)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"REELSERVE_UPSTREAM_KIE_KEY": "sk"}, "REELSERVE_UPSTREAM_KIE_URL"),
        (
            {"REELSERVE_UPSTREAM_KIE_URL": "ftp://x", "REELSERVE_UPSTREAM_KIE_KEY": "k"},
            "REELSERVE_UPSTREAM_KIE_URL",
        ),
        (
            {"REELSERVE_UPSTREAM_KIE_URL": "https://a", "REELSERVE_UPSTREAM_KIE_POLL_S": "0"},
            "REELSERVE_UPSTREAM_KIE_POLL_S",
        ),
        (
            {"REELSERVE_UPSTREAM_KIE_URL": "https://a", "REELSERVE_UPSTREAM_KIE_CONCURRENCY": "x"},
            "REELSERVE_UPSTREAM_KIE_CONCURRENCY",
        ),
    ],
)
def test_a_bad_setting_is_an_error_naming_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        upstreams_from_env(env)


@pytest.mark.parametrize(
    ("url", "public"),
    [
        ("https://media.example.com", True),
        ("http://127.0.0.1:8000", False),
        ("http://localhost:8000", False),
        ("http://10.1.2.3", False),
        ("http://192.168.0.9:80", False),
        ("http://[::1]:8000", False),
        ("http://reelserve.internal", False),
        ("http://8.8.8.8", True),
    ],
)
def test_public_addresses(url: str, public: bool) -> None:
    assert is_public(url) is public


# --- answers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (400, UpstreamRejected),
        (413, UpstreamRejected),
        (422, UpstreamRejected),
        (401, UpstreamUnusable),
        (402, UpstreamUnusable),
        (403, UpstreamUnusable),
        (404, UpstreamUnusable),
        (505, UpstreamUnusable),
        (429, UpstreamDown),
        (455, UpstreamDown),
        (500, UpstreamDown),
        (501, UpstreamDown),
        (503, UpstreamDown),
    ],
)
def test_answers_are_sorted_by_whose_fault_and_whether_retrying_helps(
    code: int, kind: type[Exception]
) -> None:
    assert type(classify("kie", code, "m")) is kind


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert retry_after_s("3") == 3.0
    assert retry_after_s(None) is None and retry_after_s("soon") is None
    in_ten = retry_after_s(formatdate(time.time() + 10, usegmt=True))
    assert in_ten is not None and 8 <= in_ten <= 11


# --- family wires -------------------------------------------------------------------


def test_create_and_record_paths_by_family() -> None:
    market = task(Dialect.MARKET, wire={"path": "/api/v1/jobs/createTask", "body": {}})
    assert paths(market) == ("/api/v1/jobs/createTask", "/api/v1/jobs/recordInfo")
    aleph = task(Dialect.ALEPH, wire={"path": "/api/v1/aleph/generate"})
    assert paths(aleph)[1] == "/api/v1/aleph/record-info"
    suno = task(Dialect.SUNO, wire={"path": "/api/v1/generate/extend"})
    assert paths(suno)[1] == "/api/v1/generate/record-info"
    with pytest.raises(NotForwardable):
        paths(task(Dialect.VEO, "upscale_video"))  # a 1080p rendition: no wire, made here
    with pytest.raises(NotForwardable):
        paths(task(Dialect.SUNO_WAV, wire={"path": "/api/v1/wav/generate"}))
    assert upstream_task_id({"taskId": "abc"}) == "abc" and upstream_task_id(None) == ""


def test_market_records() -> None:
    video = task(Dialect.MARKET, spec={"kind": "video"})
    assert read(video, {"state": "queuing"}).state == PENDING
    running = read(video, {"state": "generating", "progress": 40})
    assert running.state == RUNNING and running.progress == 0.4
    done = read(
        video,
        {
            "state": "success",
            "resultJson": json.dumps(
                {"resultUrls": ["https://u/v.mp4"], "lastFrameUrl": ["https://u/l.png"]}
            ),
        },
    )
    assert done.state == SUCCEEDED
    assert [(o.role, o.kind, o.url) for o in done.outputs] == [
        ("video", "video", "https://u/v.mp4"),
        ("last_frame", "image", "https://u/l.png"),
    ]
    text = read(video, {"state": "success", "resultJson": '{"resultObject": {"text": "hi"}}'})
    assert text.outputs[0].data == {"text": "hi"}
    failed = read(video, {"state": "fail", "failCode": "422", "failMsg": "bad prompt"})
    assert (failed.state, failed.fail_code, failed.input_fault) == (FAILED, 422, True)
    broken = read(video, {"state": "fail", "failCode": "501", "failMsg": "oops"})
    assert broken.input_fault is False


def test_runway_veo_4o_flux_and_suno_records() -> None:
    runway = read(
        task(Dialect.RUNWAY),
        {"state": "success", "videoInfo": {"videoUrl": "https://u/v", "imageUrl": "https://u/c"}},
    )
    assert [o.role for o in runway.outputs] == ["video", "cover"]
    assert read(task(Dialect.RUNWAY), {"state": "fail", "failCode": 400}).input_fault

    veo_extend = read(
        task(Dialect.VEO, "extend"),
        {
            "successFlag": 1,
            "response": {"resultUrls": ["https://u/new"], "fullResultUrls": ["https://u/all"]},
        },
    )
    assert [(o.role, o.url) for o in veo_extend.outputs] == [
        ("video", "https://u/all"),
        ("segment", "https://u/new"),
    ]
    veo_failed = read(task(Dialect.VEO), {"successFlag": 3, "errorMessage": "x"})
    assert veo_failed.state == FAILED and not veo_failed.input_fault
    assert read(task(Dialect.VEO), {"successFlag": 2, "errorCode": 400}).input_fault

    gpt = read(task(Dialect.GPT4O_IMAGE), {"successFlag": 0, "progress": "0.25"})
    assert gpt.state == RUNNING and gpt.progress == 0.25
    gpt_done = read(
        task(Dialect.GPT4O_IMAGE), {"successFlag": 1, "response": {"resultUrls": ["a", "b"]}}
    )
    assert [o.url for o in gpt_done.outputs] == ["a", "b"]
    flux = read(task(Dialect.FLUX_KONTEXT), {"successFlag": 1, "response": {"resultImageUrl": "i"}})
    assert [o.url for o in flux.outputs] == ["i"]

    items = [
        {"id": "u1", "audioUrl": "https://u/1.mp3", "imageUrl": "https://u/1.jpg", "title": "A"},
        {"id": "u2", "audioUrl": "", "imageUrl": "", "title": "B"},
    ]
    first = read(task(Dialect.SUNO), {"status": "FIRST_SUCCESS", "response": {"sunoData": items}})
    assert first.state == RUNNING and first.stage == "first" and len(first.tracks) == 2
    assert [(o.role, o.index) for o in first.outputs] == [("track", 0), ("track_cover", 0)]
    fault = read(task(Dialect.SUNO), {"status": "SENSITIVE_WORD_ERROR", "errorCode": 400})
    assert fault.state == FAILED and fault.input_fault
    audio_failed = read(task(Dialect.SUNO), {"status": "GENERATE_AUDIO_FAILED"})
    assert audio_failed.state == FAILED and not audio_failed.input_fault


# --- the captured request -----------------------------------------------------------


def test_a_captured_body_keeps_data_uris_as_blobs() -> None:
    blobs = MemoryBlobStore()
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 32
    uri = "data:image/png;base64," + base64.b64encode(png).decode()
    capture.note_request("/api/v1/jobs/createTask", {"model": "m", "input": {"image": [uri]}})
    wire = asyncio.run(capture.wire_params("t9", blobs, 1 << 20))
    assert wire is not None and wire["path"] == "/api/v1/jobs/createTask"
    [ref] = wire["body"]["input"]["image"]
    assert ref == capture.BLOB_REF + "inputs/t9/wire-1.png"
    assert asyncio.run(blobs.get_bytes(ref.removeprefix(capture.BLOB_REF))) == png
    assert capture.forwards(["synthetic", "upstream:kie"]) and not capture.forwards(["synthetic"])
