"""The SDK's callback helpers against what the server's own signing code sends."""

from __future__ import annotations

import json
import time

import pytest
from standardwebhooks.webhooks import Webhook

from reelserve.callbacks.signing import callback_headers, whsec
from reelserve.client.errors import WebhookVerificationError
from reelserve.client.webhooks import (
    AlephCallback,
    MarketCallback,
    RunwayCallback,
    parse_callback,
    verify,
    verify_kie_signature,
    verify_standard_webhook,
)

RUNWAY = json.dumps(
    {
        "code": 200,
        "msg": "All generated successfully.",
        "data": {"task_id": "t-1", "video_id": "v", "video_url": "https://v", "image_url": "i"},
    }
)


def signed(body: str, key: str = "s3cret", ts: int | None = None, task_id: str = "t-1") -> dict:
    return callback_headers(
        webhook_id="msg_1",
        timestamp=int(time.time()) if ts is None else ts,
        body=body,
        task_id=task_id,
        key=key,
    )


def test_verify_accepts_what_the_server_signs_and_reads_the_body() -> None:
    event = verify("s3cret", signed(RUNWAY), RUNWAY.encode())
    assert isinstance(event, RunwayCallback)
    assert event.succeeded and event.task_id == "t-1" and event.video_url == "https://v"


def test_the_standard_secret_may_be_given_in_its_whsec_form() -> None:
    verify_standard_webhook(whsec("s3cret"), signed(RUNWAY), RUNWAY)


def test_a_changed_body_is_refused() -> None:
    with pytest.raises(WebhookVerificationError, match="does not match"):
        verify("s3cret", signed(RUNWAY), RUNWAY.replace("https://v", "https://evil"))


def test_a_wrong_secret_is_refused_by_both_schemes() -> None:
    headers = signed(RUNWAY)
    with pytest.raises(WebhookVerificationError):
        verify_standard_webhook("other", headers, RUNWAY)
    with pytest.raises(WebhookVerificationError):
        verify_kie_signature(
            "other", "t-1", headers["X-Webhook-Timestamp"], headers["X-Webhook-Signature"]
        )


def test_a_signature_older_than_the_replay_window_is_refused() -> None:
    old = int(time.time()) - 301
    with pytest.raises(WebhookVerificationError, match="replay window"):
        verify("s3cret", signed(RUNWAY, ts=old), RUNWAY)
    # inside a wider window it verifies: only the age was wrong
    verify("s3cret", signed(RUNWAY, ts=old), RUNWAY, tolerance=600)


def test_kie_only_headers_verify_against_the_bodys_own_task_id() -> None:
    headers = signed(RUNWAY)
    kie_only = {k: v for k, v in headers.items() if not k.startswith("webhook-")}
    assert verify("s3cret", kie_only, RUNWAY).task_id == "t-1"
    # a KIE signature made for another task does not vouch for this body
    other = {k: v for k, v in signed(RUNWAY, task_id="t-2").items() if k.startswith("X-")}
    with pytest.raises(WebhookVerificationError):
        verify("s3cret", other, RUNWAY)


def test_unsigned_callbacks_are_refused() -> None:
    with pytest.raises(WebhookVerificationError, match="missing"):
        verify("s3cret", {"webhook-id": "m", "webhook-timestamp": str(int(time.time()))}, RUNWAY)


def test_our_standard_verifier_agrees_with_the_reference_library() -> None:
    headers = signed(RUNWAY, key="k")
    Webhook(whsec("k")).verify(RUNWAY, headers)
    verify_standard_webhook("k", headers, RUNWAY)


def test_each_dialect_is_recognised_from_its_body() -> None:
    aleph = parse_callback(
        {"code": 200, "msg": "success", "taskId": "a-1", "data": {"result_video_url": "https://r"}}
    )
    assert isinstance(aleph, AlephCallback) and aleph.task_id == "a-1"
    assert aleph.video_url == "https://r"
    aleph_failed = parse_callback({"code": 400, "msg": "bad", "data": None, "taskId": "a-2"})
    assert not aleph_failed.succeeded and aleph_failed.msg == "bad"
    market = parse_callback(
        {
            "code": 501,
            "msg": "Generation failed",
            "data": {
                "taskId": "m-1",
                "model": "synthetic/text-to-video",
                "state": "fail",
                "resultJson": "",
                "failCode": "500",
                "failMsg": "Generation failed",
                "creditsConsumed": 0,
            },
        }
    )
    assert isinstance(market, MarketCallback) and market.state == "fail"
    assert market.fail_code == "500" and not market.succeeded and market.result_urls == []


def test_a_body_of_no_known_dialect_is_refused() -> None:
    with pytest.raises(WebhookVerificationError):
        parse_callback(b'{"hello": 1}')
    with pytest.raises(WebhookVerificationError):
        parse_callback(b"not json")
