from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest

from reelserve.api.deps import bearer_token
from reelserve.blobs.keys import InvalidBlobKey, check_key
from reelserve.blobs.signing import UrlSigner
from reelserve.security.apikeys import generate_key, hash_key


def test_signed_url_verifies_and_detects_any_change() -> None:
    signer = UrlSigner(b"secret", "http://h:1/")
    url = signer.url("media/a b/video.mp4", 2_000_000_000)
    split = urlsplit(url)
    assert split.path == "/files/media/a%20b/video.mp4"
    q = {k: v[0] for k, v in parse_qs(split.query).items()}
    assert signer.verify("media/a b/video.mp4", int(q["expires"]), q["sig"])
    assert not signer.verify("media/a b/video.mp4", int(q["expires"]) + 1, q["sig"])
    assert not signer.verify("media/a b/cover.png", int(q["expires"]), q["sig"])
    assert not UrlSigner(b"other", "http://h:1").verify(
        "media/a b/video.mp4", int(q["expires"]), q["sig"]
    )


def test_expiry_is_checked_against_now() -> None:
    assert UrlSigner.expired(int(time.time()) - 1)
    assert not UrlSigner.expired(int(time.time()) + 60)


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "a//b", "./a", "a/.", "a\\b", "a/\x00"])
def test_unsafe_blob_keys_are_refused(key: str) -> None:
    with pytest.raises(InvalidBlobKey):
        check_key(key)


def test_ordinary_blob_keys_pass() -> None:
    assert check_key("media/t-1/v_2/video.mp4") == "media/t-1/v_2/video.mp4"


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer abc", "abc"),
        ("abc", "abc"),
        ("  Bearer   abc ", "abc"),
        ("", None),
        (None, None),
        ("Bearer ", None),
    ],
)
def test_bearer_and_bare_keys_are_read(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


def test_keys_are_random_and_stored_only_as_hashes() -> None:
    a, b = generate_key(), generate_key()
    assert a != b and a.startswith("rs_")
    assert hash_key(a) != hash_key(b) and len(hash_key(a)) == 64 and a not in hash_key(a)
