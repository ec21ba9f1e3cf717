"""The SDK's pure rules: answers read in both status modes, errors per code, retry delays,
poll backoff, and the records parsed from reelserve's and KIE's own shapes."""

from __future__ import annotations

import email.utils
import json
import random
import time

import httpx
import pytest

from reelserve.client import (
    AlephRecord,
    FeatureDisabled,
    InsufficientCredits,
    Maintenance,
    MarketRecord,
    NotFound,
    RateLimited,
    RetryPolicy,
    RunwayRecord,
    ServerError,
    TaskExpired,
    TaskFailed,
    Unauthorized,
    ValidationError,
)
from reelserve.client.calls import read_answer, retry_after_seconds
from reelserve.client.errors import APIError, error_for
from reelserve.client.waiting import PollBackoff, settle


def envelope(code: int, msg: str = "m", data: object = None) -> bytes:
    return json.dumps({"code": code, "msg": msg, "message": msg, "data": data}).encode()


def response(status: int, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, content=body, headers=headers or {})


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (401, Unauthorized),
        (402, InsufficientCredits),
        (404, NotFound),
        (422, ValidationError),
        (429, RateLimited),
        (455, Maintenance),
        (500, ServerError),
        (503, ServerError),
        (505, FeatureDisabled),
        (418, APIError),
    ],
)
@pytest.mark.parametrize("rest", [False, True])
def test_an_envelope_code_becomes_its_exception_in_either_status_mode(
    code: int, cls: type[Exception], rest: bool
) -> None:
    outcome = read_answer(response(code if rest else 200, envelope(code, "why")))
    assert type(outcome.error) is cls
    assert outcome.error is not None and outcome.error.code == code
    assert outcome.error.message == "why"


def test_success_yields_the_data() -> None:
    outcome = read_answer(response(200, envelope(200, "success", {"taskId": "t"})))
    assert outcome.error is None and outcome.data == {"taskId": "t"}


def test_a_proxy_error_without_an_envelope_is_a_retryable_server_error() -> None:
    outcome = read_answer(response(502, b"<html>bad gateway</html>"))
    assert isinstance(outcome.error, ServerError) and outcome.retryable
    assert outcome.error.http_status == 502


def test_a_200_that_is_not_an_envelope_is_an_error_not_data() -> None:
    outcome = read_answer(response(200, b"hello"))
    assert outcome.error is not None and not outcome.retryable


@pytest.mark.parametrize("code", [400, 401, 402, 404, 422, 455, 505])
def test_answers_that_will_not_change_by_themselves_are_not_retryable(code: int) -> None:
    assert not read_answer(response(200, envelope(code))).retryable


@pytest.mark.parametrize("code", [429, 500, 503])
def test_rate_limits_and_server_errors_are_retryable(code: int) -> None:
    assert read_answer(response(200, envelope(code))).retryable


def test_rate_limited_carries_retry_after_seconds() -> None:
    outcome = read_answer(response(200, envelope(429, "slow down"), {"Retry-After": "7"}))
    assert isinstance(outcome.error, RateLimited) and outcome.error.retry_after == 7.0


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = time.time()
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds("junk") is None and retry_after_seconds(None) is None
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert retry_after_seconds(date, now=now) == pytest.approx(30, abs=1.5)
    assert retry_after_seconds(email.utils.formatdate(now - 60, usegmt=True), now=now) == 0


def test_validation_error_names_the_field_from_the_servers_message() -> None:
    err = error_for(422, "aspectRatio: must be one of 16:9, 4:3")
    assert isinstance(err, ValidationError) and err.field == "aspectRatio"
    assert error_for(422, "Invalid request parameters").field is None  # type: ignore[attr-defined]


def test_backoff_doubles_up_to_its_cap_and_retry_after_wins() -> None:
    policy = RetryPolicy(backoff_base=0.5, backoff_max=4, jitter=0, _random=random.Random(1))
    assert [policy.delay(n, None) for n in (1, 2, 3, 4, 5)] == [0.5, 1, 2, 4, 4]
    assert policy.delay(1, 9) == 9
    assert RetryPolicy(max_retry_after=5).delay(1, 3600) == 5


def test_jitter_only_lengthens_the_delay_by_at_most_its_share() -> None:
    policy = RetryPolicy(backoff_base=1, jitter=0.1)
    delays = [policy.delay(1, None) for _ in range(200)]
    assert all(1 <= d <= 1.1 for d in delays) and len(set(delays)) > 1


def _runway(state: str, progress: float = 0.0, **extra: object) -> RunwayRecord:
    return RunwayRecord.from_data({"taskId": "t", "state": state, "progress": progress, **extra})


def test_polling_backs_off_while_nothing_changes_and_resets_when_it_moves() -> None:
    backoff = PollBackoff(1.0, max_interval=3.0)
    delays = [backoff.next_delay(_runway("queueing")) for _ in range(5)]
    assert delays == [1.0, 1.5, 2.25, 3.0, 3.0]
    assert backoff.next_delay(_runway("generating", 0.2)) == 1.0


def test_settle_raises_task_failed_with_code_and_message() -> None:
    with pytest.raises(TaskFailed) as caught:
        settle(_runway("fail", failCode=400, failMsg="Incorrect image format"))
    assert caught.value.fail_code == 400 and caught.value.fail_msg == "Incorrect image format"


def test_settle_raises_on_an_expired_success_and_passes_a_live_one() -> None:
    with pytest.raises(TaskExpired):
        settle(_runway("success", 1.0, expireFlag=1))
    assert settle(_runway("success", 1.0)) is True
    assert settle(_runway("generating", 0.5)) is False


def test_an_aleph_record_from_kie_without_state_derives_it() -> None:
    running = {"taskId": "t", "successFlag": 0, "errorCode": 0, "response": {}}
    done = {**running, "successFlag": 1, "response": {"resultVideoUrl": "https://v"}}
    failed = {**running, "errorCode": 400, "errorMessage": "bad"}
    assert AlephRecord.from_data(running).state == "generating"
    assert AlephRecord.from_data(done).succeeded and AlephRecord.from_data(done).video_url
    assert AlephRecord.from_data(failed).failed and AlephRecord.from_data(failed).fail_code == 400


def test_a_market_record_reads_result_urls_and_scales_progress() -> None:
    rec = MarketRecord.from_data(
        {
            "taskId": "t",
            "state": "generating",
            "progress": 40,
            "param": '{"model": "m"}',
            "resultJson": "",
        }
    )
    assert rec.progress == 0.4 and rec.params == {"model": "m"} and rec.result_urls == []
    done = MarketRecord.from_data(
        {"taskId": "t", "state": "success", "resultJson": '{"resultUrls": ["https://a"]}'}
    )
    assert done.video_url == "https://a" and done.progress == 1.0
