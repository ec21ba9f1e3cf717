"""The BlobStore contract, one suite over every store: local disk, S3 (SeaweedFS), memory.

The S3 case runs against the real S3 server `./scripts/test` starts; under CI
it fails when that server is missing.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from reelserve.blobs.base import BlobNotFound, BlobStore, BlobUnavailable
from reelserve.blobs.keys import InvalidBlobKey
from reelserve.blobs.local import LocalBlobStore
from reelserve.blobs.memory import MemoryBlobStore
from reelserve.media.encode import Mp4Writer
from tests.s3 import s3_overrides, s3_store
from tests.support import decode_all

MIB = 1024 * 1024
PART = 5 * MIB


@pytest.fixture(params=["local", "s3", "memory"])
async def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BlobStore]:
    if request.param == "local":
        yield LocalBlobStore(tmp_path / "blobs")
    elif request.param == "memory":
        yield MemoryBlobStore()
    else:
        yield s3_store(part_size=PART)


@pytest.fixture
def prefix() -> str:
    """A folder no other test uses (the S3 bucket is shared by the whole run)."""
    return f"suite/{uuid.uuid4().hex}"


def _source(tmp_path: Path, data: bytes, name: str = "source.bin") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


async def test_bytes_put_are_the_bytes_got(blobs: BlobStore, prefix: str) -> None:
    key = f"{prefix}/a/cover.png"
    await blobs.put_bytes(key, b"\x89PNG-not-really", "image/png")
    assert await blobs.get_bytes(key) == b"\x89PNG-not-really"
    assert await blobs.exists(key)
    assert await blobs.size(key) == len(b"\x89PNG-not-really")


async def test_a_file_put_is_read_back_byte_for_byte(
    blobs: BlobStore, prefix: str, tmp_path: Path
) -> None:
    data = os.urandom(300_001)
    await blobs.put_file(f"{prefix}/video.mp4", _source(tmp_path, data), "video/mp4")
    assert await blobs.get_bytes(f"{prefix}/video.mp4") == data
    async with blobs.local_path(f"{prefix}/video.mp4") as path:
        assert path.read_bytes() == data


async def test_an_object_larger_than_several_parts_is_stored_byte_exact(
    blobs: BlobStore, prefix: str, tmp_path: Path
) -> None:
    # 2 full parts and an odd tail: on S3 this goes up as a 3-part multipart upload.
    data = os.urandom(2 * PART + 123_457)
    key = f"{prefix}/big/video.mp4"
    await blobs.put_file(key, _source(tmp_path, data), "video/mp4")
    assert await blobs.size(key) == len(data)
    assert await blobs.get_bytes(key) == data
    async with blobs.local_path(key) as path:
        assert path.stat().st_size == len(data)
        assert path.read_bytes() == data


async def test_putting_a_key_again_replaces_its_content(blobs: BlobStore, prefix: str) -> None:
    key = f"{prefix}/same.bin"
    await blobs.put_bytes(key, b"first version", "application/octet-stream")
    await blobs.put_bytes(key, b"second", "application/octet-stream")
    assert await blobs.get_bytes(key) == b"second"
    assert await blobs.size(key) == len(b"second")


async def test_a_missing_key_is_not_found_by_every_read(blobs: BlobStore, prefix: str) -> None:
    key = f"{prefix}/never/written.mp4"
    assert not await blobs.exists(key)
    with pytest.raises(BlobNotFound):
        await blobs.get_bytes(key)
    with pytest.raises(BlobNotFound):
        await blobs.size(key)
    with pytest.raises(BlobNotFound):
        async with blobs.local_path(key):
            pass
    assert await blobs.delete(key) is False


async def test_delete_removes_one_blob_and_says_whether_there_was_one(
    blobs: BlobStore, prefix: str
) -> None:
    await blobs.put_bytes(f"{prefix}/keep.txt", b"k", "text/plain")
    await blobs.put_bytes(f"{prefix}/drop.txt", b"d", "text/plain")
    assert await blobs.delete(f"{prefix}/drop.txt") is True
    assert not await blobs.exists(f"{prefix}/drop.txt")
    assert await blobs.exists(f"{prefix}/keep.txt")
    assert await blobs.delete(f"{prefix}/drop.txt") is False


async def test_delete_prefix_removes_everything_in_the_folder_and_nothing_beside_it(
    blobs: BlobStore, prefix: str
) -> None:
    doomed = [f"{prefix}/task/v1/video.mp4", f"{prefix}/task/v1/cover.png", f"{prefix}/task/x"]
    kept = [f"{prefix}/task-2/video.mp4", f"{prefix}/taskx", f"{prefix}/other/task/a"]
    for key in doomed + kept:
        await blobs.put_bytes(key, key.encode(), "application/octet-stream")
    assert await blobs.delete_prefix(f"{prefix}/task") == len(doomed)
    for key in doomed:
        assert not await blobs.exists(key), key
    for key in kept:
        assert await blobs.get_bytes(key) == key.encode(), key
    assert await blobs.delete_prefix(f"{prefix}/task") == 0
    assert await blobs.delete_prefix(f"{prefix}/no-such-folder") == 0


async def test_iter_prefix_lists_every_key_in_the_folder(blobs: BlobStore, prefix: str) -> None:
    keys = {f"{prefix}/f/{i}/blob-{i}.bin" for i in range(7)}
    for key in keys:
        await blobs.put_bytes(key, b"x", "application/octet-stream")
    await blobs.put_bytes(f"{prefix}/fx/outside.bin", b"x", "application/octet-stream")
    listed = [key async for key in blobs.iter_prefix(f"{prefix}/f")]
    assert sorted(listed) == sorted(keys)


async def test_keys_with_spaces_and_punctuation_round_trip(blobs: BlobStore, prefix: str) -> None:
    key = f"{prefix}/my folder/clip @2x+final=v1~.mp4"
    await blobs.put_bytes(key, b"odd name", "video/mp4")
    assert await blobs.get_bytes(key) == b"odd name"
    assert [k async for k in blobs.iter_prefix(f"{prefix}/my folder")] == [key]
    assert await blobs.delete(key) is True


@pytest.mark.parametrize("key", ["../escape", "/absolute", "a//b", "a/./b", "bad\nname"])
async def test_unsafe_keys_are_refused(blobs: BlobStore, key: str) -> None:
    with pytest.raises(InvalidBlobKey):
        await blobs.put_bytes(key, b"x", "text/plain")


async def test_local_path_gives_a_decodable_video(
    blobs: BlobStore, prefix: str, tmp_path: Path
) -> None:
    import numpy as np

    source = tmp_path / "clip.mp4"
    with Mp4Writer(source, 64, 48, 24, preset="ultrafast") as writer:
        for i in range(12):
            writer.write(np.full((48, 64, 3), i * 20, np.uint8))
    await blobs.put_file(f"{prefix}/clip.mp4", source, "video/mp4")
    async with blobs.local_path(f"{prefix}/clip.mp4") as path:
        frames = decode_all(path)
    assert len(frames) == 12 and frames[0].shape == (48, 64, 3)


async def test_only_s3_hands_out_direct_urls(blobs: BlobStore, prefix: str) -> None:
    await blobs.put_bytes(f"{prefix}/d.bin", b"direct", "application/octet-stream")
    url = await blobs.direct_url(f"{prefix}/d.bin", "GET", 60)
    if isinstance(blobs, (LocalBlobStore, MemoryBlobStore)):
        assert url is None
    else:
        assert url is not None and "X-Amz-Signature=" in url


# S3 only: what the file route's redirect relies on.


@pytest.fixture
def s3() -> BlobStore:
    store: BlobStore = s3_store(part_size=PART)
    return store


async def test_a_presigned_url_serves_ranges_and_the_stored_content_type(
    s3: BlobStore, prefix: str
) -> None:
    data = os.urandom(50_000)
    await s3.put_bytes(f"{prefix}/r.mp4", data, "video/mp4")
    url = await s3.direct_url(f"{prefix}/r.mp4", "GET", 60)
    assert url is not None
    async with httpx.AsyncClient() as http:
        whole = await http.get(url)
        part = await http.get(url, headers={"Range": "bytes=100-1099"})
        tail = await http.get(url, headers={"Range": "bytes=-500"})
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["content-type"] == "video/mp4"
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-1099/{len(data)}"
    assert part.content == data[100:1100]
    assert tail.status_code == 206 and tail.content == data[-500:]


async def test_a_presigned_url_is_signed_for_its_method(s3: BlobStore, prefix: str) -> None:
    await s3.put_bytes(f"{prefix}/h.bin", b"12345", "application/octet-stream")
    head_url = await s3.direct_url(f"{prefix}/h.bin", "HEAD", 60)
    assert head_url is not None
    async with httpx.AsyncClient() as http:
        head = await http.head(head_url)
        get = await http.get(head_url)
    assert head.status_code == 200 and head.headers["content-length"] == "5"
    assert get.status_code == 403


async def test_a_presigned_url_stops_working_when_it_expires(s3: BlobStore, prefix: str) -> None:
    await s3.put_bytes(f"{prefix}/e.bin", b"short-lived", "application/octet-stream")
    # X-Amz-Date has whole seconds, so a URL lives between expires - 1 and expires
    # seconds: 3 s leaves room for the first GET on a loaded machine.
    signed_at = time.monotonic()
    url = await s3.direct_url(f"{prefix}/e.bin", "GET", 3)
    assert url is not None and "X-Amz-Expires=3&" in url
    async with httpx.AsyncClient() as http:
        assert (await http.get(url)).status_code == 200
        await asyncio.sleep(max(0.0, signed_at + 4.5 - time.monotonic()))
        assert (await http.get(url)).status_code == 403


async def test_presigning_is_capped_at_s3s_seven_days(s3: BlobStore, prefix: str) -> None:
    url = await s3.direct_url(f"{prefix}/any.bin", "GET", 30 * 86400)
    assert url is not None and f"X-Amz-Expires={7 * 86400}&" in url


async def test_a_range_is_fetched_without_the_rest(s3: BlobStore, prefix: str) -> None:
    from reelserve.blobs.s3 import S3BlobStore

    assert isinstance(s3, S3BlobStore)
    data = os.urandom(PART + 10)
    await s3.put_bytes(f"{prefix}/g.bin", data, "application/octet-stream")
    assert await s3.get_range(f"{prefix}/g.bin", PART - 5, PART + 5) == data[PART - 5 : PART + 5]


async def test_a_multipart_upload_is_used_above_one_part(
    s3: BlobStore, prefix: str, tmp_path: Path
) -> None:
    import obstore

    from reelserve.blobs.s3 import S3BlobStore

    assert isinstance(s3, S3BlobStore)
    await s3.put_file(f"{prefix}/m.bin", _source(tmp_path, os.urandom(2 * PART + 1)), "x/y")
    await s3.put_file(f"{prefix}/s.bin", _source(tmp_path, os.urandom(PART - 1), "s"), "x/y")
    # S3 marks a multipart object's ETag with its part count.
    meta = await obstore.head_async(s3._store, f"{prefix}/m.bin")
    assert str(meta["e_tag"]).strip('"').endswith("-3")
    single = await obstore.head_async(s3._store, f"{prefix}/s.bin")
    assert "-" not in str(single["e_tag"])


async def test_wrong_credentials_are_unavailable_not_missing(prefix: str) -> None:
    from reelserve.blobs.s3 import S3BlobStore

    o = s3_overrides()
    wrong = S3BlobStore(
        o["s3_bucket"], endpoint=o["s3_endpoint"], access_key="nobody", secret_key="wrong"
    )
    with pytest.raises(BlobUnavailable):
        await wrong.put_bytes(f"{prefix}/x", b"x", "text/plain")
    with pytest.raises(BlobUnavailable):
        await wrong.get_bytes(f"{prefix}/x")


def test_parts_smaller_than_s3_allows_are_refused() -> None:
    from reelserve.blobs.s3 import S3BlobStore

    with pytest.raises(ValueError, match="5 MiB"):
        S3BlobStore("b", endpoint="http://127.0.0.1:1", part_size=MIB)


async def test_presigned_urls_use_the_public_endpoint_when_one_is_set(prefix: str) -> None:
    from reelserve.blobs.s3 import S3BlobStore

    o = s3_overrides()
    # The same server under two names: reelserve's (localhost) and the clients'.
    public = o["s3_endpoint"]
    store = S3BlobStore(
        o["s3_bucket"],
        endpoint=public.replace("127.0.0.1", "localhost"),
        access_key=o["s3_access_key"],
        secret_key=o["s3_secret_key"],
        public_endpoint=public,
    )
    await store.put_bytes(f"{prefix}/p.bin", b"public", "application/octet-stream")
    url = await store.direct_url(f"{prefix}/p.bin", "GET", 60)
    assert url is not None and url.startswith(f"{public}/{o['s3_bucket']}/")
    async with httpx.AsyncClient() as http:
        assert (await http.get(url)).content == b"public"
