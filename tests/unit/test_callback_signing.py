from __future__ import annotations

import base64
import hashlib
import hmac

from standardwebhooks.webhooks import Webhook

from reelserve.callbacks.signing import callback_headers, kie_signature, whsec

BODY = '{"code":200,"msg":"All generated successfully.","data":{"task_id":"t-1"}}'


def test_kie_signature_is_hmac_of_task_id_dot_timestamp() -> None:
    expected = base64.b64encode(hmac.new(b"s3cret", b"t-1.1700000000", hashlib.sha256).digest())
    assert kie_signature("s3cret", "t-1", 1700000000) == expected.decode()


def test_standard_webhooks_signature_verifies_with_the_reference_library() -> None:
    import time

    ts = int(time.time())
    headers = callback_headers(
        webhook_id="msg_1", timestamp=ts, body=BODY, task_id="t-1", key="s3cret"
    )
    Webhook(whsec("s3cret")).verify(BODY, headers)  # raises if it does not verify


def test_a_changed_body_fails_the_standard_signature() -> None:
    import time

    import pytest
    from standardwebhooks.webhooks import WebhookVerificationError

    ts = int(time.time())
    headers = callback_headers(webhook_id="msg_1", timestamp=ts, body=BODY, task_id="t-1", key="k")
    with pytest.raises(WebhookVerificationError):
        Webhook(whsec("k")).verify(BODY.replace("200", "201"), headers)


def test_without_a_key_only_the_id_and_timestamp_are_sent() -> None:
    headers = callback_headers(webhook_id="msg_1", timestamp=5, body=BODY, task_id="t", key=None)
    assert headers["webhook-id"] == "msg_1" and headers["webhook-timestamp"] == "5"
    assert not {"webhook-signature", "X-Webhook-Signature", "X-Webhook-Timestamp"} & set(headers)


def test_with_a_key_both_signature_schemes_are_sent() -> None:
    headers = callback_headers(webhook_id="msg_1", timestamp=5, body=BODY, task_id="t", key="k")
    assert headers["X-Webhook-Timestamp"] == "5"
    assert headers["X-Webhook-Signature"] == kie_signature("k", "t", 5)
    assert headers["webhook-signature"].startswith("v1,")


def test_whsec_is_base64_of_the_keys_utf8_bytes() -> None:
    assert whsec("clé") == "whsec_" + base64.b64encode("clé".encode()).decode()
