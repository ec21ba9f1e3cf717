"""What one delivery attempt keeps of the receiver's answer (the console shows it),
against a real receiver on loopback."""

from __future__ import annotations

import httpx
from tests.receivers import Receiver, Reply

from reelserve.callbacks.models import Delivery, DeliveryState
from reelserve.callbacks.sender import RESPONSE_KEPT, send


async def answered(status: int, body: bytes) -> tuple[int | None, str, str]:
    with Receiver() as rx:
        url = rx.script("/cb", Reply(status, body=body))
        delivery = Delivery(
            "d1", "wh1", "t1", "k1", url, "{}", DeliveryState.PENDING, 0, 0.0, None, 0.0
        )
        async with httpx.AsyncClient() as client:
            sent = await send(client, delivery, None, 5)
    return sent.attempt.http_status, sent.attempt.error, sent.attempt.response


async def test_the_start_of_the_answer_is_kept_with_the_attempt() -> None:
    assert await answered(200, b"thanks") == (200, "", "thanks")
    assert await answered(500, b"receiver broke") == (500, "HTTP 500", "receiver broke")


async def test_a_long_answer_is_cut_and_bad_utf8_does_not_raise() -> None:
    status, _error, kept = await answered(200, b"x" * 5000)
    assert status == 200 and kept == "x" * RESPONSE_KEPT
    assert (await answered(200, b"\xff\xfeok"))[2].endswith("ok")
