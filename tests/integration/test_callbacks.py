"""Callbacks against real receivers on loopback: what is sent, when, how it is signed,
and what GET /api/v1/callbacks records (spec §4 and §6)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.receivers import Receiver, Reply, closed_port
from tests.support import RunningServer, StaticHttpServer, run_server_with, wait_for_task

REPO = Path(__file__).resolve().parents[2]
DELAYS = (0.2, 0.4, 0.6)
TIMEOUT_S = 1.0
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
FINAL = ("delivered", "failed", "abandoned")
KEYS: dict[str, str | None] = {
    "alice": "alice-webhook-secret",
    "bob": None,
    "carol": "carol-old-secret",
}


@pytest.fixture(scope="module")
def cb_server(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[RunningServer]:
    with run_server_with(
        tmp_path_factory.mktemp("callbacks"),
        KEYS,
        backend=backend,
        callback_retry_delays=DELAYS,
        callback_timeout_s=TIMEOUT_S,
        worker_poll_s=0.1,
    ) as running:
        yield running


@pytest.fixture(scope="module")
def rx(backend: str) -> Iterator[Receiver]:
    """One receiver per backend: the tests reuse paths, and what a server on the other
    backend sent there (its late retries included) must not count (under pytest-xdist
    both backends' tests of this module run one after the other in one process)."""
    with Receiver() as receiver:
        yield receiver


def text_body(**extra: Any) -> dict[str, Any]:
    return {
        "prompt": "A lighthouse at dawn",
        "duration": 5,
        "quality": "720p",
        "aspectRatio": "16:9",
        **extra,
    }


def submit(client: httpx.Client, **body: Any) -> str:
    answer = client.post("/api/v1/runway/generate", json=text_body(**body)).json()
    assert answer["code"] == 200, answer
    return str(answer["data"]["taskId"])


def failing_task(client: httpx.Client, static_http: StaticHttpServer, callback_url: str) -> str:
    """A task that ends within milliseconds: its image is a 404, so it fails (code 400)."""
    return submit(
        client, imageUrl=static_http.base_url + "/no-such-image.png", callBackUrl=callback_url
    )


def deliveries(client: httpx.Client, task_id: str) -> list[dict[str, Any]]:
    answer = client.get("/api/v1/callbacks", params={"taskId": task_id}).json()
    assert answer["code"] == 200, answer
    return list(answer["data"])


def settled(client: httpx.Client, task_id: str, count: int = 1, timeout: float = 20) -> list[Any]:
    """The task's deliveries once `count` exist and every one is in a final state."""
    deadline = time.monotonic() + timeout
    while True:
        found = deliveries(client, task_id)
        if len(found) >= count and all(d["state"] in FINAL for d in found):
            return found
        assert time.monotonic() < deadline, found
        time.sleep(0.05)


def assert_attempt_shape(attempt: dict[str, Any]) -> None:
    assert set(attempt) == {"at", "httpStatus", "error", "durationMs", "response"}
    assert isinstance(attempt["response"], str) and len(attempt["response"]) <= 1024
    assert ISO_Z.match(attempt["at"]), attempt
    assert isinstance(attempt["durationMs"], int) and attempt["durationMs"] >= 0
    assert isinstance(attempt["error"], str)


# -- delivery outcomes ----------------------------------------------------------


def test_a_healthy_receiver_gets_the_runway_success_payload_in_one_attempt(
    cb_server: RunningServer, rx: Receiver
) -> None:
    client = cb_server.client("bob")
    url = rx.script("/success", Reply(200))
    task_id = submit(client, callBackUrl=url)
    record = wait_for_task(client, task_id, 60)
    assert record["state"] == "success", record
    (request,) = rx.wait_for("/success", 1)
    (delivery,) = settled(client, task_id)

    expected = {
        "code": 200,
        "msg": "All generated successfully.",
        "data": {
            "task_id": task_id,
            "video_id": record["videoInfo"]["videoId"],
            "video_url": record["videoInfo"]["videoUrl"],
            "image_url": record["videoInfo"]["imageUrl"],
        },
    }
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/json"
    assert request.json() == expected
    assert delivery["payload"] == expected
    assert delivery["state"] == "delivered"
    assert delivery["url"] == url
    assert delivery["webhookId"] == request.headers["webhook-id"]
    assert set(delivery) == {
        "deliveryId",
        "webhookId",
        "url",
        "stage",
        "state",
        "payload",
        "attempts",
    }
    assert delivery["stage"] == ""
    (attempt,) = delivery["attempts"]
    assert_attempt_shape(attempt)
    assert attempt["httpStatus"] == 200 and attempt["error"] == ""
    assert attempt["response"] == "ok"  # the start of what the receiver answered
    # The URLs handed out in the callback really serve the video and its cover.
    assert httpx.get(expected["data"]["video_url"], timeout=30).status_code == 200
    assert httpx.get(expected["data"]["image_url"], timeout=30).status_code == 200
    time.sleep(max(DELAYS) + 0.2)
    assert len(rx.received("/success")) == 1, "a delivered callback is not sent again"


def test_a_500_is_retried_after_the_first_delay_with_the_same_webhook_id(
    cb_server: RunningServer, rx: Receiver, static_http: StaticHttpServer
) -> None:
    client = cb_server.client("bob")
    url = rx.script("/flaky", Reply(500), Reply(200))
    task_id = failing_task(client, static_http, url)
    first, second = rx.wait_for("/flaky", 2)
    (delivery,) = settled(client, task_id)

    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery["webhookId"]
    assert first.body == second.body, "every retry sends the same bytes"
    assert second.monotonic - first.monotonic >= DELAYS[0]
    assert delivery["state"] == "delivered"
    assert [a["httpStatus"] for a in delivery["attempts"]] == [500, 200]
    assert "500" in delivery["attempts"][0]["error"]
    assert delivery["attempts"][1]["error"] == ""
    for attempt in delivery["attempts"]:
        assert_attempt_shape(attempt)


def test_a_receiver_slower_than_the_timeout_is_retried_then_abandoned(
    cb_server: RunningServer, rx: Receiver, static_http: StaticHttpServer
) -> None:
    client = cb_server.client("bob")
    url = rx.script("/slow", Reply(200, delay_s=TIMEOUT_S + 1.5))
    task_id = failing_task(client, static_http, url)
    (delivery,) = settled(client, task_id, timeout=30)

    assert delivery["state"] == "abandoned"
    assert len(delivery["attempts"]) == 1 + len(DELAYS)
    for attempt in delivery["attempts"]:
        assert_attempt_shape(attempt)
        assert attempt["httpStatus"] is None
        assert "timeout" in attempt["error"].lower()
        assert attempt["durationMs"] >= TIMEOUT_S * 1000 * 0.9
        assert attempt["durationMs"] < (TIMEOUT_S + 1.0) * 1000, "the timeout is enforced"
    assert len(rx.received("/slow")) == 1 + len(DELAYS), "each attempt reached the receiver"
    assert len({r.headers["webhook-id"] for r in rx.received("/slow")}) == 1


def test_a_refused_connection_is_retried_then_abandoned_after_four_attempts(
    cb_server: RunningServer, static_http: StaticHttpServer
) -> None:
    client = cb_server.client("bob")
    task_id = failing_task(client, static_http, f"http://127.0.0.1:{closed_port()}/cb")
    (delivery,) = settled(client, task_id)

    assert delivery["state"] == "abandoned"
    assert len(delivery["attempts"]) == 4
    for attempt in delivery["attempts"]:
        assert_attempt_shape(attempt)
        assert attempt["httpStatus"] is None
        assert "connect" in attempt["error"].lower()
    # The retries were spaced by the delays (1.2 s in all; `at` has whole seconds).
    assert delivery["attempts"][0]["at"] < delivery["attempts"][-1]["at"]


def test_a_410_stops_delivery_at_once(
    cb_server: RunningServer, rx: Receiver, static_http: StaticHttpServer
) -> None:
    client = cb_server.client("bob")
    task_id = failing_task(client, static_http, rx.script("/gone", Reply(410)))
    (delivery,) = settled(client, task_id)
    time.sleep(sum(DELAYS) + 0.3)  # long enough for every retry, had there been one

    assert delivery["state"] == "failed"
    assert [a["httpStatus"] for a in deliveries(client, task_id)[0]["attempts"]] == [410]
    assert len(rx.received("/gone")) == 1


def test_retry_after_from_the_receiver_is_honoured_over_a_shorter_delay(
    cb_server: RunningServer, rx: Receiver, static_http: StaticHttpServer
) -> None:
    client = cb_server.client("bob")
    url = rx.script("/busy", Reply(503, headers={"Retry-After": "1"}), Reply(200))
    task_id = failing_task(client, static_http, url)
    first, second = rx.wait_for("/busy", 2)
    (delivery,) = settled(client, task_id)

    assert second.monotonic - first.monotonic >= 1.0
    assert [a["httpStatus"] for a in delivery["attempts"]] == [503, 200]
    assert delivery["state"] == "delivered"


def test_a_redirect_is_a_failure_and_is_not_followed(
    cb_server: RunningServer, rx: Receiver, static_http: StaticHttpServer
) -> None:
    with Receiver() as elsewhere:
        target = elsewhere.script("/target", Reply(200))
        client = cb_server.client("bob")
        url = rx.script("/moved", Reply(302, headers={"Location": target}))
        task_id = failing_task(client, static_http, url)
        (delivery,) = settled(client, task_id)

        assert elsewhere.received() == [], "the redirect must not be followed"
    assert delivery["state"] == "abandoned"
    assert [a["httpStatus"] for a in delivery["attempts"]] == [302] * 4
    assert all("302" in a["error"] for a in delivery["attempts"])


def test_a_failed_task_delivers_the_runway_failure_payload(
    cb_server: RunningServer, rx: Receiver, static_http: StaticHttpServer
) -> None:
    client = cb_server.client("bob")
    task_id = failing_task(client, static_http, rx.script("/failure", Reply(200)))
    record = wait_for_task(client, task_id, 30)
    (request,) = rx.wait_for("/failure", 1)

    assert record["state"] == "fail" and record["failCode"] == 400
    assert request.json() == {
        "code": 400,
        "msg": "Get image info failed",
        "data": {"task_id": task_id, "video_id": "", "video_url": "", "image_url": ""},
    }
    assert record["failMsg"] == "Get image info failed"


@pytest.mark.parametrize("hanging_tasks", [4, 12])
def test_a_hanging_receiver_does_not_delay_a_healthy_one(
    tmp_path: Path, static_http: StaticHttpServer, hanging_tasks: int
) -> None:
    # 12 is more than the loop's per-host slots (8): the hanging receiver
    # saturates its own host's share, and a healthy receiver elsewhere must not care.
    hang_s = 5.0
    with (
        Receiver() as hanging,
        Receiver() as healthy,
        run_server_with(
            tmp_path / "data",
            {"alice": None},
            callback_retry_delays=DELAYS,
            callback_timeout_s=hang_s,
            worker_poll_s=0.1,
        ) as server,
    ):
        client = server.client("alice")
        stuck = hanging.script("/hang", Reply(200, delay_s=hang_s + 1))
        for _ in range(hanging_tasks):
            failing_task(client, static_http, stuck)
        hanging.wait_for("/hang", 4, timeout=10)  # they are in flight now

        task_id = failing_task(client, static_http, healthy.script("/cb", Reply(200)))
        wait_for_task(client, task_id, 10)
        finished_seen = time.monotonic()
        (request,) = healthy.wait_for("/cb", 1, timeout=hang_s + 5)

        assert request.monotonic - finished_seen < 1.0, (
            f"the healthy callback came {request.monotonic - finished_seen:.2f} s after its "
            "task ended: the hanging receiver held it up"
        )
        assert request.json()["data"]["task_id"] == task_id


def test_a_delivery_in_flight_does_not_make_the_delivery_loop_spin(
    tmp_path: Path, static_http: StaticHttpServer
) -> None:
    """While a receiver sits on a request, the loop should sleep, not poll the database flat out."""
    with (
        Receiver() as hanging,
        run_server_with(
            tmp_path / "data",
            {"alice": None},
            callback_retry_delays=(60.0,),
            callback_timeout_s=10.0,
            worker_poll_s=0.1,
        ) as server,
    ):
        client = server.client("alice")
        client.get("/healthz")
        started = time.process_time()
        time.sleep(1.5)
        idle_cpu = time.process_time() - started

        failing_task(client, static_http, hanging.script("/hang", Reply(200, delay_s=12)))
        hanging.wait_for("/hang", 1)
        started = time.process_time()
        time.sleep(1.5)
        busy_cpu = time.process_time() - started

        assert busy_cpu < idle_cpu + 0.5, (
            f"{busy_cpu:.2f} s of CPU in 1.5 s with one delivery in flight "
            f"(idle: {idle_cpu:.2f} s): the delivery loop is busy-waiting"
        )


# -- signatures -----------------------------------------------------------------


def whsec(key: str) -> str:
    return "whsec_" + base64.b64encode(key.encode()).decode()


def kie_signature(key: str, task_id: str, timestamp: str) -> str:
    mac = hmac.new(key.encode(), f"{task_id}.{timestamp}".encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def assert_signed_with(key: str, request: Any) -> None:
    headers = request.headers
    body = request.body.decode()
    # Standard Webhooks, by the reference verifier: covers id, timestamp and body.
    Webhook(whsec(key)).verify(body, headers)
    # KIE's scheme, recomputed here from spec §4.
    task_id = json.loads(body)["data"]["task_id"]
    assert headers["x-webhook-timestamp"] == headers["webhook-timestamp"]
    assert headers["x-webhook-signature"] == kie_signature(
        key, task_id, headers["x-webhook-timestamp"]
    )


def test_callbacks_carry_both_signatures_and_independent_verifiers_accept_them(
    cb_server: RunningServer, rx: Receiver, static_http: StaticHttpServer
) -> None:
    client = cb_server.client("alice")
    task_id = failing_task(client, static_http, rx.script("/signed", Reply(200)))
    (request,) = rx.wait_for("/signed", 1)
    key = KEYS["alice"]
    assert key is not None

    assert_signed_with(key, request)
    assert request.json()["data"]["task_id"] == task_id
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 30
    # The verifiers really check: another key, or a changed body, is refused.
    with pytest.raises(WebhookVerificationError):
        Webhook(whsec("some-other-key")).verify(request.body.decode(), request.headers)
    tampered = request.body.decode().replace('"code":400', '"code":200')
    assert tampered != request.body.decode()
    with pytest.raises(WebhookVerificationError):
        Webhook(whsec(key)).verify(tampered, request.headers)
    assert request.headers["x-webhook-signature"] != kie_signature(
        "some-other-key", task_id, request.headers["x-webhook-timestamp"]
    )


def test_without_a_webhook_key_callbacks_are_unsigned_but_carry_id_and_timestamp(
    cb_server: RunningServer, rx: Receiver, static_http: StaticHttpServer
) -> None:
    client = cb_server.client("bob")
    failing_task(client, static_http, rx.script("/unsigned", Reply(200)))
    (request,) = rx.wait_for("/unsigned", 1)

    assert request.headers["webhook-id"]
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 30
    for header in ("webhook-signature", "x-webhook-signature", "x-webhook-timestamp"):
        assert header not in request.headers


def test_a_rotated_webhook_key_signs_the_callbacks_that_follow(
    cb_server: RunningServer, rx: Receiver, static_http: StaticHttpServer
) -> None:
    client = cb_server.client("carol")
    old, new = KEYS["carol"], "carol-new-secret"
    assert old is not None
    failing_task(client, static_http, rx.script("/rotate-before", Reply(200)))
    (before,) = rx.wait_for("/rotate-before", 1)
    assert_signed_with(old, before)

    rotated = subprocess.run(
        [sys.executable, "-m", "reelserve", "keys", "update", "carol", "--webhook-hmac-key", new],
        env={
            **os.environ,
            "PYTHONPATH": str(REPO),
            "REELSERVE_DATA_DIR": str(cb_server.settings.data_dir),
            "REELSERVE_DATABASE_URL": cb_server.settings.database_url,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert rotated.returncode == 0, rotated.stderr
    # The delivery loop caches webhook keys for 5 s; wait that out from the first lookup.
    time.sleep(max(0.0, before.monotonic + 5.5 - time.monotonic()))

    failing_task(client, static_http, rx.script("/rotate-after", Reply(200)))
    (after,) = rx.wait_for("/rotate-after", 1)
    assert_signed_with(new, after)
    with pytest.raises(WebhookVerificationError):
        Webhook(whsec(old)).verify(after.body.decode(), after.headers)


# -- inspection and redelivery ------------------------------------------------------


def test_another_keys_task_has_no_callbacks_to_show_or_redeliver(
    cb_server: RunningServer, rx: Receiver, static_http: StaticHttpServer
) -> None:
    task_id = failing_task(
        cb_server.client("alice"), static_http, rx.script("/private", Reply(200))
    )
    settled(cb_server.client("alice"), task_id)
    bob = cb_server.client("bob")

    listed = bob.get("/api/v1/callbacks", params={"taskId": task_id}).json()
    assert listed["code"] == 404 and listed["data"] is None
    again = bob.post("/api/v1/callbacks/redeliver", json={"taskId": task_id}).json()
    assert again["code"] == 404
    assert len(rx.received("/private")) == 1, "nothing was sent on bob's behalf"


def test_listing_callbacks_needs_a_task_id(cb_server: RunningServer) -> None:
    client = cb_server.client("bob")
    assert client.get("/api/v1/callbacks").json()["code"] == 422
    answer = client.get("/api/v1/callbacks", params={"taskId": "  "}).json()
    assert answer["code"] == 422
    assert "taskId" in answer["msg"]


def test_a_task_without_a_callback_url_lists_no_deliveries_and_cannot_be_redelivered(
    cb_server: RunningServer, static_http: StaticHttpServer
) -> None:
    client = cb_server.client("bob")
    task_id = submit(client, imageUrl=static_http.base_url + "/no-such-image.png")
    assert wait_for_task(client, task_id, 30)["state"] == "fail"

    assert deliveries(client, task_id) == []
    answer = client.post("/api/v1/callbacks/redeliver", json={"taskId": task_id}).json()
    assert answer["code"] == 422
    assert "callBackUrl" in answer["msg"]


def test_redelivery_sends_the_same_body_under_a_new_webhook_id(
    cb_server: RunningServer, rx: Receiver, static_http: StaticHttpServer
) -> None:
    client = cb_server.client("alice")
    task_id = failing_task(client, static_http, rx.script("/again", Reply(200)))
    (original,) = settled(client, task_id)

    answer = client.post("/api/v1/callbacks/redeliver", json={"taskId": task_id}).json()
    assert answer["code"] == 200, answer
    redelivery_id = answer["data"]["deliveryId"]
    first, second = rx.wait_for("/again", 2)
    listed = settled(client, task_id, count=2)

    assert redelivery_id != original["deliveryId"]
    assert [d["deliveryId"] for d in listed] == [original["deliveryId"], redelivery_id]
    assert second.body == first.body
    assert second.headers["webhook-id"] != first.headers["webhook-id"]
    assert listed[1]["webhookId"] == second.headers["webhook-id"]
    assert listed[1]["state"] == "delivered"
    assert listed[1]["payload"] == listed[0]["payload"]
    key = KEYS["alice"]
    assert key is not None
    assert_signed_with(key, second)


def test_an_unfinished_task_cannot_be_redelivered(tmp_path: Path) -> None:
    with run_server_with(tmp_path / "data", {"alice": None}, run_worker=False) as server:
        client = server.client("alice")
        task_id = submit(client, callBackUrl="http://127.0.0.1:9/cb")

        answer = client.post("/api/v1/callbacks/redeliver", json={"taskId": task_id}).json()
        assert answer["code"] == 422, answer
        assert deliveries(client, task_id) == []
        missing = client.post("/api/v1/callbacks/redeliver", json={}).json()
        assert missing["code"] == 422
