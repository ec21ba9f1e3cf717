"""The S3 server `./scripts/test` starts (SeaweedFS), as settings and as a store.

Every test works under keys of its own (task and API key ids are UUIDs; the
blob suite uses a fresh prefix), so tests share the one bucket safely.
"""

from __future__ import annotations

import os
from typing import Any

from tests.services import require_service

ENDPOINT_VAR = "REELSERVE_TEST_S3_ENDPOINT"
WHAT = "the S3 server (SeaweedFS)"


def s3_overrides() -> dict[str, Any]:
    """Settings overrides that put a server's media in the test bucket."""
    endpoint = require_service(ENDPOINT_VAR, WHAT)
    return {
        "s3_endpoint": endpoint,
        "s3_bucket": os.environ["REELSERVE_TEST_S3_BUCKET"],
        "s3_access_key": os.environ["REELSERVE_TEST_S3_ACCESS_KEY"],
        "s3_secret_key": os.environ["REELSERVE_TEST_S3_SECRET_KEY"],
    }


def s3_store(**kwargs: Any) -> Any:
    """An S3BlobStore on the test bucket (typed Any: obstore is an optional extra)."""
    from reelserve.blobs.s3 import S3BlobStore

    o = s3_overrides()
    return S3BlobStore(
        o["s3_bucket"],
        endpoint=o["s3_endpoint"],
        access_key=o["s3_access_key"],
        secret_key=o["s3_secret_key"],
        **kwargs,
    )
