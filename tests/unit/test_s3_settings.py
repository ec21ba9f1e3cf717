"""S3 settings: a bucket turns S3 on; a half configuration is refused, never silently local."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from reelserve.blobs.choose import S3ExtraMissing, blob_store_for
from reelserve.blobs.local import LocalBlobStore
from reelserve.settings import Settings


def test_without_a_bucket_media_stays_on_local_disk(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert not settings.uses_s3
    assert isinstance(blob_store_for(settings), LocalBlobStore)


def test_the_s3_variables_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("REELSERVE_S3_ENDPOINT", "http://127.0.0.1:8333/")
    monkeypatch.setenv("REELSERVE_S3_BUCKET", "media")
    monkeypatch.setenv("REELSERVE_S3_REGION", "eu-central-1")
    monkeypatch.setenv("REELSERVE_S3_ACCESS_KEY", "AKIA")
    monkeypatch.setenv("REELSERVE_S3_SECRET_KEY", "secret")
    monkeypatch.setenv("REELSERVE_S3_PRESIGN_S", "600")
    s = Settings(data_dir=tmp_path)
    assert s.uses_s3
    assert (s.s3_endpoint, s.s3_bucket, s.s3_region) == (
        "http://127.0.0.1:8333",
        "media",
        "eu-central-1",
    )
    assert (s.s3_access_key, s.s3_secret_key, s.s3_presign_s) == ("AKIA", "secret", 600)


def test_a_bucket_setting_gives_an_s3_store(tmp_path: Path) -> None:
    from reelserve.blobs.s3 import S3BlobStore

    store = blob_store_for(
        Settings(data_dir=tmp_path, s3_bucket="media", s3_endpoint="http://127.0.0.1:1")
    )
    assert isinstance(store, S3BlobStore) and store.bucket == "media"
    assert not (tmp_path / "blobs").exists()


def test_an_endpoint_without_a_bucket_is_refused_naming_the_bucket() -> None:
    with pytest.raises(ValidationError, match="REELSERVE_S3_BUCKET"):
        Settings(s3_endpoint="http://127.0.0.1:8333")


def test_an_access_key_without_a_secret_is_refused() -> None:
    with pytest.raises(ValidationError, match="s3_secret_key"):
        Settings(s3_bucket="b", s3_access_key="AKIA")


def test_an_endpoint_that_is_not_a_url_is_refused() -> None:
    with pytest.raises(ValidationError, match="http:// or https://"):
        Settings(s3_bucket="b", s3_endpoint="127.0.0.1:8333")


@pytest.mark.parametrize("seconds", [0, 7 * 86400 + 1])
def test_presigned_urls_live_between_one_second_and_seven_days(seconds: int) -> None:
    with pytest.raises(ValidationError, match="s3_presign_s"):
        Settings(s3_bucket="b", s3_presign_s=seconds)


def test_parts_below_five_mib_are_refused() -> None:
    with pytest.raises(ValidationError, match="s3_part_mb"):
        Settings(s3_bucket="b", s3_part_mb=4)


def test_a_missing_s3_extra_is_named_with_the_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "reelserve.blobs.s3", None)  # import fails
    with pytest.raises(S3ExtraMissing, match=r"reelserve\[s3\]"):
        blob_store_for(Settings(data_dir=tmp_path, s3_bucket="media"))
