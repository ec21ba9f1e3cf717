"""Which BlobStore the settings ask for: S3 when a bucket is set, else a local directory."""

from __future__ import annotations

import logging

from reelserve.blobs.base import BlobStore
from reelserve.blobs.local import LocalBlobStore
from reelserve.settings import Settings

log = logging.getLogger("reelserve.blobs")


class S3ExtraMissing(RuntimeError):
    pass


def blob_store_for(settings: Settings) -> BlobStore:
    """Example: `blob_store_for(Settings(s3_bucket="media", s3_endpoint="http://s3:8333"))`."""
    if not settings.uses_s3:
        return LocalBlobStore(settings.data_dir / "blobs")
    try:
        # Imported only here: obstore is the optional `s3` extra.
        from reelserve.blobs.s3 import S3BlobStore
    except ImportError as exc:
        raise S3ExtraMissing(
            "REELSERVE_S3_BUCKET is set but the S3 client is not installed: "
            f"pip install 'reelserve[s3]' ({exc})"
        ) from None
    log.info("media in S3: bucket %r at %s", settings.s3_bucket, settings.s3_endpoint or "AWS")
    return S3BlobStore.from_settings(settings)
