"""The pure upload rules and own-URL recognition, table-driven."""

from __future__ import annotations

import base64

import pytest

from reelserve.blobs.signing import UrlSigner, is_own_file_url
from reelserve.errors import ValidationFailed
from reelserve.uploads import rules


@pytest.mark.parametrize(
    ("given", "cleaned"),
    [("a", "a"), ("/a/b/", "a/b"), ("//a//", "a"), ("images/user uploads", "images/user uploads")],
)
def test_upload_paths_lose_their_outer_slashes(given: str, cleaned: str) -> None:
    assert rules.upload_path(given) == cleaned


@pytest.mark.parametrize("bad", ["", "/", "..", "a/../b", "a//b", "a/.", "a/b?c", "a/ b"])
def test_bad_upload_paths_are_refused_naming_the_field(bad: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        rules.upload_path(bad)
    assert err.value.field == "uploadPath"


@pytest.mark.parametrize("bad", ["a/b", "a\\b", "..", ".", "a?b", "x" * 256])
def test_bad_file_names_are_refused_naming_the_field(bad: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        rules.file_name(bad)
    assert err.value.field == "fileName"


def test_data_urls_declare_their_type_and_plain_base64_does_not() -> None:
    raw = b"\x89PNG\r\n\x1a\nrest"
    encoded = base64.b64encode(raw).decode()
    assert rules.decode_base64(f"data:image/png;base64,{encoded}", 100).declared_mime == "image/png"
    plain = rules.decode_base64(encoded.rstrip("="), 100)
    assert plain.data == raw and plain.declared_mime is None


def test_base64_over_the_cap_is_refused_before_decoding() -> None:
    with pytest.raises(ValidationFailed, match="base64Data"):
        rules.decode_base64(base64.b64encode(b"x" * 101).decode(), 100)


@pytest.mark.parametrize(
    ("head", "mime"),
    [
        (b"\x89PNG\r\n\x1a\n....", "image/png"),
        (b"\xff\xd8\xff\xe0", "image/jpeg"),
        (b"GIF89a", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"\x00\x00\x00\x18ftypisom", "video/mp4"),
        (b"\x00\x00\x00\x14ftypqt  ", "video/quicktime"),
        (b"\x1a\x45\xdf\xa3", "video/webm"),
        (b"hello", None),
    ],
)
def test_images_and_videos_are_recognised_by_their_first_bytes(
    head: bytes, mime: str | None
) -> None:
    assert rules.sniff_mime(head) == mime


def test_a_name_decides_the_type_of_content_that_is_not_media() -> None:
    assert rules.mime_type(b"hello", "a.txt") == "text/plain"
    assert rules.mime_type(b"hello", None, "application/json") == "application/json"
    assert rules.mime_type(b"hello", "noext") == "application/octet-stream"


def test_own_urls_yield_their_key_only_with_a_valid_unexpired_signature() -> None:
    signer = UrlSigner(b"secret", "http://127.0.0.1:8000")
    url = signer.url("uploads/k/a b/c.png", 2_000_000_000)
    assert signer.verified_key(url, now=1_000_000_000) == "uploads/k/a b/c.png"
    assert signer.verified_key(url, now=2_000_000_001) is None
    assert signer.verified_key(url.replace("c.png", "d.png"), now=0) is None
    assert signer.verified_key("http://other.example/files/x?expires=1&sig=a") is None
    assert is_own_file_url(url, "http://127.0.0.1:8000/")
    assert not is_own_file_url(
        "http://127.0.0.1:8000@evil.example/files/x", "http://127.0.0.1:8000"
    )
