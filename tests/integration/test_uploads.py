"""File uploads (spec §3) against a real server: every rule, error and promise."""

from __future__ import annotations

import base64
import re
import socket
import time
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from reelserve.media.frames import fit_cover
from tests.support import (
    RunningServer,
    StaticHttpServer,
    decode_all,
    mad,
    png_bytes,
    run_server,
)

PREFIXES = ("/api", "/api/v1")
KINDS = ("base64", "stream", "url")
PNG = png_bytes(64, 48)


def upload(
    server: RunningServer,
    kind: str,
    data: bytes,
    upload_path: str | None = "images/tests",
    file_name: str | None = "pic.png",
    *,
    static_http: StaticHttpServer | None = None,
    prefix: str = "/api",
    key: str = "alice",
    source_name: str = "source.png",
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """POST one upload of `kind`; the parsed answer."""
    client = server.client(key)
    fields: dict[str, Any] = {}
    if upload_path is not None:
        fields["uploadPath"] = upload_path
    if file_name is not None:
        fields["fileName"] = file_name
    fields.update(extra or {})
    if kind == "base64":
        body = {"base64Data": base64.b64encode(data).decode(), **fields}
        response = client.post(f"{prefix}/file-base64-upload", json=body)
    elif kind == "stream":
        files = {"file": (source_name, data, "application/octet-stream")}
        response = client.post(f"{prefix}/file-stream-upload", data=fields, files=files)
    else:
        assert static_http is not None
        url = static_http.add(f"/src/{time.monotonic_ns()}/{source_name}", data)
        response = client.post(f"{prefix}/file-url-upload", json={"fileUrl": url, **fields})
    return dict(response.json())


def fetch(server: RunningServer, url: str) -> httpx.Response:
    return server.client(None).get(url)


def upload_rows(server: RunningServer) -> list[tuple[Any, ...]]:
    """The server's upload rows, read from its database (SQLite or PostgreSQL)."""
    from sqlalchemy import select

    from reelserve.store.store import Store
    from reelserve.store.tables import uploads
    from tests.databases import run_coro

    stmt = select(uploads.c.api_key_id, uploads.c.blob_key, uploads.c.size, uploads.c.mime)

    async def read() -> list[tuple[Any, ...]]:
        store = Store(server.settings.resolved_database_url)
        try:
            return await store.db.read(lambda c: [tuple(r) for r in c.execute(stmt)])
        finally:
            await store.close()

    return run_coro(read())


def stored_upload_files(server: RunningServer) -> list[Path]:
    root = server.settings.data_dir / "blobs" / "uploads"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_upload_endpoint_stores_the_file_and_answers_in_kies_shape(
    server: RunningServer, static_http: StaticHttpServer, kind: str, prefix: str
) -> None:
    name = f"{kind}-{prefix.strip('/').replace('/', '-')}.png"
    answer = upload(server, kind, PNG, "images/shape", name, static_http=static_http, prefix=prefix)
    assert answer["success"] is True
    assert answer["code"] == 200
    assert answer["msg"] == answer["message"] == "File uploaded successfully"
    data = answer["data"]
    assert set(data) == {
        "fileName",
        "filePath",
        "downloadUrl",
        "fileSize",
        "mimeType",
        "uploadedAt",
        "url",
        "fileUrl",
    }
    assert data["fileName"] == name
    assert data["filePath"] == f"images/shape/{name}"
    assert data["fileSize"] == len(PNG)
    assert data["mimeType"] == "image/png"
    assert data["url"] == data["fileUrl"] == data["downloadUrl"]
    assert data["downloadUrl"].startswith(server.base_url + "/files/uploads/")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", data["uploadedAt"])
    got = fetch(server, data["downloadUrl"])
    assert got.status_code == 200
    assert got.content == PNG
    assert got.headers["content-type"] == "image/png"


@pytest.mark.parametrize("kind", KINDS)
def test_outer_slashes_of_the_upload_path_are_stripped(
    server: RunningServer, static_http: StaticHttpServer, kind: str
) -> None:
    answer = upload(server, kind, PNG, "/a/b/", f"slash-{kind}.png", static_http=static_http)
    assert answer["code"] == 200, answer
    assert answer["data"]["filePath"] == f"a/b/slash-{kind}.png"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("upload_path", [None, "", "/", "  "])
def test_a_missing_or_empty_upload_path_is_refused_naming_it(
    server: RunningServer, static_http: StaticHttpServer, kind: str, upload_path: str | None
) -> None:
    answer = upload(server, kind, PNG, upload_path, static_http=static_http)
    assert answer["code"] == 422
    assert answer["msg"].startswith("uploadPath"), answer


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("upload_path", ["..", "a/../b", "a/..", "../etc"])
def test_a_dot_dot_segment_in_the_upload_path_is_refused(
    server: RunningServer, static_http: StaticHttpServer, kind: str, upload_path: str
) -> None:
    answer = upload(server, kind, PNG, upload_path, static_http=static_http)
    assert answer["code"] == 422
    assert answer["msg"].startswith("uploadPath"), answer
    assert ".." in answer["msg"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("file_name", ["a/b.png", "a\\b.png", "/b.png"])
def test_a_file_name_with_a_path_separator_is_refused(
    server: RunningServer, static_http: StaticHttpServer, kind: str, file_name: str
) -> None:
    answer = upload(server, kind, PNG, "x", file_name, static_http=static_http)
    assert answer["code"] == 422
    assert answer["msg"].startswith("fileName"), answer
    assert "separator" in answer["msg"]


def test_an_upload_path_segment_outside_the_key_alphabet_is_refused(server: RunningServer) -> None:
    answer = upload(server, "base64", PNG, "a/b?c", "x.png")
    assert answer["code"] == 422
    assert answer["msg"].startswith("uploadPath")


@pytest.mark.parametrize("value", ["not base64!!", "QUJD$", "data:image/png,plain", "===="])
def test_bad_base64_is_refused_naming_the_field(server: RunningServer, value: str) -> None:
    response = server.client().post(
        "/api/file-base64-upload", json={"base64Data": value, "uploadPath": "x"}
    )
    answer = response.json()
    assert answer["code"] == 422
    assert answer["msg"].startswith("base64Data"), answer
    assert not answer.get("success")


def test_a_data_url_is_accepted_as_base64_data(server: RunningServer) -> None:
    uri = "data:image/png;base64," + base64.b64encode(PNG).decode()
    answer = (
        server.client()
        .post(
            "/api/file-base64-upload",
            json={"base64Data": uri, "uploadPath": "d", "fileName": "u.png"},
        )
        .json()
    )
    assert answer["code"] == 200, answer
    assert fetch(server, answer["data"]["downloadUrl"]).content == PNG


def test_without_a_file_name_a_name_is_generated_keeping_the_extension(
    server: RunningServer, static_http: StaticHttpServer
) -> None:
    by_mime = upload(server, "base64", PNG, "gen", None)["data"]["fileName"]
    by_url = upload(
        server, "url", b"hello", "gen", None, static_http=static_http, source_name="notes.txt"
    )["data"]
    by_part = upload(server, "stream", b"\x00" * 10, "gen", None, source_name="clip.bin")
    assert re.fullmatch(r"[0-9a-f]{32}\.png", by_mime)
    assert re.fullmatch(r"[0-9a-f]{32}\.txt", by_url["fileName"])
    assert by_url["mimeType"] == "text/plain"
    assert re.fullmatch(r"[0-9a-f]{32}\.bin", by_part["data"]["fileName"])
    again = upload(server, "base64", PNG, "gen", None)["data"]["fileName"]
    assert again != by_mime


def test_the_mime_type_of_an_image_comes_from_its_bytes(server: RunningServer) -> None:
    jpeg = png_bytes(32, 32, fmt="JPEG")
    answer = upload(server, "stream", jpeg, "mime", "photo.bin")
    assert answer["data"]["mimeType"] == "image/jpeg"


def test_reusing_a_file_name_under_the_same_path_overwrites(server: RunningServer) -> None:
    first = upload(server, "base64", b"first version", "over", "same.txt")["data"]
    second = upload(server, "stream", b"second, longer version", "over", "same.txt")["data"]
    assert fetch(server, first["downloadUrl"]).content == b"second, longer version"
    assert fetch(server, second["downloadUrl"]).content == b"second, longer version"
    rows = [r for r in upload_rows(server) if r[1].endswith("/over/same.txt")]
    assert len(rows) == 1
    assert rows[0][2] == len(b"second, longer version")


def test_the_same_path_and_name_from_two_keys_do_not_collide(server: RunningServer) -> None:
    alice = upload(server, "base64", b"alice's", "shared", "a.txt", key="alice")["data"]
    bob = upload(server, "base64", b"bob's", "shared", "a.txt", key="bob")["data"]
    assert alice["downloadUrl"] != bob["downloadUrl"]
    assert alice["filePath"] == bob["filePath"] == "shared/a.txt"
    assert fetch(server, alice["downloadUrl"]).content == b"alice's"
    assert fetch(server, bob["downloadUrl"]).content == b"bob's"


def test_uploads_need_a_key(server: RunningServer) -> None:
    client = server.client(None)
    for path in ("/api/file-base64-upload", "/api/v1/file-stream-upload", "/api/file-url-upload"):
        assert client.post(path, json={}).json()["code"] == 401


def test_a_stream_upload_without_a_file_part_is_refused_naming_file(server: RunningServer) -> None:
    answer = server.client().post("/api/file-stream-upload", data={"uploadPath": "x"}).json()
    assert answer["code"] == 422
    assert answer["msg"].startswith("file")


def test_an_empty_file_is_refused(server: RunningServer) -> None:
    answer = upload(server, "stream", b"", "x", "empty.txt")
    assert answer["code"] == 422
    assert answer["msg"].startswith("file")


def test_a_tampered_download_url_is_refused(server: RunningServer) -> None:
    url = upload(server, "base64", PNG, "t", "t.png")["data"]["downloadUrl"]
    assert fetch(server, url.replace("/t.png", "/u.png")).status_code == 403


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with run_server(tmp_path_factory.mktemp("capped"), upload_max_bytes=1000) as running:
        yield running


@pytest.mark.parametrize("size", [1001, 300_000, 5_000_000])
def test_a_stream_upload_over_the_cap_is_refused_and_nothing_is_stored(
    capped: RunningServer, size: int
) -> None:
    answer = upload(capped, "stream", b"x" * size, "big", f"big-{size}.bin")
    assert answer["code"] == 422
    assert answer["msg"].startswith("file")
    assert "1000 bytes" in answer["msg"]
    assert stored_upload_files(capped) == []
    assert upload_rows(capped) == []
    tmp = capped.settings.data_dir / "tmp" / "uploads"
    assert not tmp.exists() or list(tmp.iterdir()) == []


def test_a_stream_upload_at_the_cap_is_stored(capped: RunningServer) -> None:
    answer = upload(capped, "stream", b"y" * 1000, "edge", "edge.bin")
    assert answer["code"] == 200, answer
    assert fetch(capped, answer["data"]["downloadUrl"]).content == b"y" * 1000
    client = capped.client()
    assert client.post("/api/file-stream-upload", data={}).json()["code"] == 422


def test_base64_and_url_uploads_over_the_cap_are_refused_naming_their_field(
    capped: RunningServer, static_http: StaticHttpServer
) -> None:
    b64 = upload(capped, "base64", b"z" * 1001, "big", "b.bin")
    assert b64["code"] == 422 and b64["msg"].startswith("base64Data"), b64
    url = upload(capped, "url", b"z" * 50_000, "big", "u.bin", static_http=static_http)
    assert url["code"] == 422 and url["msg"].startswith("fileUrl"), url
    assert "1000 bytes" in url["msg"]
    assert not any(p.name in ("b.bin", "u.bin") for p in stored_upload_files(capped))


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_file_url_answers_451(server: RunningServer) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/nothing.png"
    answer = (
        server.client()
        .post("/api/v1/file-url-upload", json={"fileUrl": url, "uploadPath": "x"})
        .json()
    )
    assert answer["code"] == 451
    assert "fileUrl" in answer["msg"]


def test_a_file_url_that_answers_an_error_status_answers_451(
    server: RunningServer, static_http: StaticHttpServer
) -> None:
    url = static_http.add("/gone.png", b"no", status=404)
    answer = (
        server.client()
        .post("/api/file-url-upload", json={"fileUrl": url, "uploadPath": "x"})
        .json()
    )
    assert answer["code"] == 451
    assert "HTTP 404" in answer["msg"]


@pytest.mark.parametrize("value", [None, "", "ftp://example.com/a.png", "not a url"])
def test_a_missing_or_non_http_file_url_is_refused_naming_it(
    server: RunningServer, value: str | None
) -> None:
    body: dict[str, Any] = {"uploadPath": "x"}
    if value is not None:
        body["fileUrl"] = value
    answer = server.client().post("/api/file-url-upload", json=body).json()
    assert answer["code"] == 422
    assert answer["msg"].startswith("fileUrl"), answer


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with run_server(tmp_path_factory.mktemp("guarded"), allow_private_urls=False) as running:
        yield running


def test_the_url_guard_refuses_a_private_file_url(
    guarded: RunningServer, static_http: StaticHttpServer
) -> None:
    url = static_http.add("/private.png", PNG, "image/png")
    answer = (
        guarded.client()
        .post("/api/file-url-upload", json={"fileUrl": url, "uploadPath": "x"})
        .json()
    )
    assert answer["code"] == 422
    assert answer["msg"].startswith("fileUrl")
    assert "loopback" in answer["msg"]


def test_disabling_uploads_answers_505_on_all_three_endpoints(tmp_path: Path) -> None:
    with run_server(tmp_path / "data", disabled_features=frozenset({"uploads"})) as srv:
        client = srv.client()
        b64 = {"base64Data": base64.b64encode(PNG).decode(), "uploadPath": "x"}
        for prefix in PREFIXES:
            assert client.post(f"{prefix}/file-base64-upload", json=b64).json()["code"] == 505
            files = {"file": ("a.png", PNG)}
            stream = client.post(
                f"{prefix}/file-stream-upload", data={"uploadPath": "x"}, files=files
            )
            assert stream.json()["code"] == 505
            url = {"fileUrl": "http://example.com/a.png", "uploadPath": "x"}
            assert client.post(f"{prefix}/file-url-upload", json=url).json()["code"] == 505
        assert stored_upload_files(srv) == []


def test_expired_uploads_are_deleted_and_their_urls_answer_410(tmp_path: Path) -> None:
    with run_server(
        tmp_path / "data", upload_retention_hours=1 / 3600, janitor_interval_s=0.2
    ) as srv:
        url = upload(srv, "base64", PNG, "short", "lived.png")["data"]["downloadUrl"]
        assert len(upload_rows(srv)) == 1
        deadline = time.monotonic() + 15
        while upload_rows(srv) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert upload_rows(srv) == []
        assert stored_upload_files(srv) == []
        gone = fetch(srv, url)
        assert gone.status_code == 410


def _fitted(image: bytes, width: int, height: int) -> np.ndarray:
    source = np.asarray(Image.open(BytesIO(image)).convert("RGB"))
    return fit_cover(source, width, height)


def _generate_from(server: RunningServer, image_url: str) -> dict[str, Any]:
    client = server.client()
    body = {"prompt": "Bring it to life", "duration": 5, "quality": "720p", "imageUrl": image_url}
    answer = client.post("/api/v1/runway/generate", json=body).json()
    assert answer["code"] == 200, answer
    return server.wait(client, answer["data"]["taskId"])


def test_an_uploaded_images_download_url_used_as_image_url_yields_a_video_whose_first_frame_matches_the_image(  # noqa: E501
    server: RunningServer, tmp_path: Path
) -> None:
    image = png_bytes(800, 600)
    files = {"file": ("start.png", image, "image/png")}
    uploaded = (
        server.client()
        .post("/api/v1/file-stream-upload", data={"uploadPath": "starts"}, files=files)
        .json()["data"]
    )
    record = _generate_from(server, uploaded["downloadUrl"])
    assert record["state"] == "success", record
    assert record["generateParam"]["imageUrl"] == uploaded["downloadUrl"]
    video = tmp_path / "v.mp4"
    video.write_bytes(fetch(server, record["videoInfo"]["videoUrl"]).content)
    frames = decode_all(video)
    assert frames[0].shape[:2] == (720, 960)
    assert mad(frames[0], _fitted(image, 960, 720)) < 4


@pytest.mark.parametrize("field", ["downloadUrl", "url", "fileUrl"])
def test_an_uploads_url_is_read_from_the_store_even_where_the_server_may_not_fetch_itself(
    guarded: RunningServer, tmp_path: Path, field: str
) -> None:
    # With the URL guard on, an HTTP fetch of the server's own 127.0.0.1 address
    # is refused: success proves the worker read the blob store directly.
    image = png_bytes(640, 640, color=(40, 160, 90))
    uploaded = upload(guarded, "base64", image, "guarded", f"{field}.png")["data"]
    record = _generate_from(guarded, uploaded[field])
    assert record["state"] == "success", record
    video = tmp_path / "g.mp4"
    video.write_bytes(fetch(guarded, record["videoInfo"]["videoUrl"]).content)
    assert mad(decode_all(video)[0], _fitted(image, 960, 960)) < 4


def test_an_own_url_with_a_bad_signature_fails_the_task_with_get_image_info_failed(
    guarded: RunningServer,
) -> None:
    url = upload(guarded, "base64", PNG, "guarded", "bad-sig.png")["data"]["downloadUrl"]
    tampered = re.sub(r"sig=[^&]+", "sig=AAAA", url)
    record = _generate_from(guarded, tampered)
    assert record["state"] == "fail"
    assert record["failCode"] == 400
    assert record["failMsg"] == "Get image info failed"
