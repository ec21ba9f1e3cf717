"""Receiving upload bodies into temporary files, capped while they stream.

Neither a multipart body nor a downloaded `fileUrl` is ever held whole in
memory: bytes go to a temporary file beside the blob store in 1 MB writes, and
the cap is checked as they arrive, so an oversized body costs no more disk
than the cap.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, urlsplit

import httpx
from fastapi import Request
from python_multipart.multipart import MultipartParser, parse_options_header

from reelserve.errors import SourceUnreachable, ValidationFailed
from reelserve.security.urlguard import BlockedUrl, outbound_transport

HEAD_BYTES = 64
"""How much of the start of a file is kept for sniffing its type."""
_FLUSH_BYTES = 1 << 20
_FIELD_MAX = 64 * 1024
_DRAIN_MAX = 64 << 20
"""How much of an oversized body is still read (and dropped) so the client sees the answer."""


@dataclass
class Received:
    """A file received into `path` (the caller moves or deletes it)."""

    path: Path
    size: int = 0
    head: bytes = b""
    declared_mime: str | None = None
    source_name: str | None = None
    _buffer: bytearray = field(default_factory=bytearray)
    _fh: IO[bytes] | None = None

    async def write(self, data: bytes | bytearray) -> None:
        if len(self.head) < HEAD_BYTES:
            self.head += bytes(data[: HEAD_BYTES - len(self.head)])
        self.size += len(data)
        self._buffer += data
        if len(self._buffer) >= _FLUSH_BYTES:
            await self.flush()

    async def flush(self) -> None:
        if self._buffer:
            chunk, self._buffer = bytes(self._buffer), bytearray()
            await asyncio.to_thread(self._write, chunk)

    def _write(self, chunk: bytes) -> None:
        if self._fh is None:
            self._fh = self.path.open("wb")
        self._fh.write(chunk)

    async def close(self) -> None:
        await self.flush()
        if self._fh is None:
            self.path.touch()
        else:
            self._fh.close()
            self._fh = None

    def discard(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def temp_file(tmp_dir: Path) -> Path:
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=tmp_dir, prefix="upload-")
    os.close(fd)
    return Path(name)


def too_large(field_name: str, max_bytes: int) -> ValidationFailed:
    return ValidationFailed(field_name, f"is larger than the upload limit of {max_bytes} bytes")


class _Part:
    def __init__(self) -> None:
        self.headers: dict[bytes, bytes] = {}
        self.field = b""
        self.value = b""
        self.name = ""
        self.filename: str | None = None
        self.content_type: str | None = None


async def receive_multipart(
    request: Request, tmp_dir: Path, max_bytes: int
) -> tuple[dict[str, str], Received | None]:
    """The text fields and the `file` part of a multipart/form-data body.

    The file part streams into a temporary file; past `max_bytes` it is
    deleted and the request refused (422 naming `file`).
    """
    ctype, params = parse_options_header(request.headers.get("content-type"))
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise ValidationFailed("file", "is required (send multipart/form-data with a file part)")
    fields: dict[str, str] = {}
    events: list[tuple[str, Any]] = []
    part = _Part()

    def on_part_begin() -> None:
        events.append(("begin", None))

    def on_header_field(data: bytes, start: int, end: int) -> None:
        part.field += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        part.value += data[start:end]

    def on_header_end() -> None:
        part.headers[part.field.lower()] = part.value
        part.field = b""
        part.value = b""

    def on_headers_finished() -> None:
        events.append(("headers", dict(part.headers)))
        part.headers = {}

    def on_part_data(data: bytes, start: int, end: int) -> None:
        events.append(("data", data[start:end]))

    def on_part_end() -> None:
        events.append(("end", None))

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
        },
    )
    received: Received | None = None
    current: Received | None = None
    text = bytearray()
    name = ""
    problem: ValidationFailed | None = None
    drained = 0
    try:
        async for chunk in request.stream():
            if problem is not None:
                drained += len(chunk)
                if drained > _DRAIN_MAX:
                    break
                continue
            try:
                parser.write(chunk)
            except Exception:  # python-multipart raises several types for bad framing
                raise ValidationFailed("file", "the multipart body is malformed") from None
            for kind, value in events:
                if kind == "headers":
                    name, filename, declared = _disposition(value)
                    text = bytearray()
                    if name == "file" and received is None:
                        current = received = Received(
                            temp_file(tmp_dir), declared_mime=declared, source_name=filename
                        )
                    else:
                        current = None
                elif kind == "data":
                    if current is not None:
                        await current.write(value)
                        if current.size > max_bytes:
                            problem = too_large("file", max_bytes)
                            break
                    elif name and name != "file":
                        text += value
                        if len(text) > _FIELD_MAX:
                            problem = ValidationFailed(name, "is too long")
                            break
                elif kind == "end":
                    if current is not None:
                        await current.close()
                        current = None
                    elif name and name != "file" and name not in fields:
                        fields[name] = text.decode("utf-8", errors="replace")
                    name = ""
            events.clear()
        if problem is not None:
            raise problem
        parser.finalize()
    except BaseException:
        if received is not None:
            received.discard()
        raise
    if received is not None and current is received:
        raise ValidationFailed("file", "the multipart body ended inside the file part")
    return fields, received


def _disposition(headers: dict[bytes, bytes]) -> tuple[str, str | None, str | None]:
    _, options = parse_options_header(headers.get(b"content-disposition", b""))
    name = options.get(b"name", b"").decode("utf-8", errors="replace")
    raw_filename = options.get(b"filename")
    filename = raw_filename.decode("utf-8", errors="replace") if raw_filename else None
    declared = headers.get(b"content-type")
    mime = parse_options_header(declared)[0].decode("latin-1") if declared else None
    return name, filename, mime


async def download(
    url: str,
    tmp_dir: Path,
    max_bytes: int,
    timeout_s: float,
    *,
    allow_private: bool,
    exempt: Iterable[tuple[str, int]] = (),
) -> Received:
    """GET `url` into a temporary file within `timeout_s` in all; any failure is 451."""
    received = Received(temp_file(tmp_dir))
    path_name = unquote(urlsplit(url).path.rsplit("/", 1)[-1]) or None
    received.source_name = path_name
    try:
        async with asyncio.timeout(timeout_s):
            transport = outbound_transport(allow_private, exempt)
            async with (
                httpx.AsyncClient(
                    transport=transport,
                    timeout=httpx.Timeout(timeout_s),
                    follow_redirects=True,
                    max_redirects=5,
                ) as client,
                client.stream("GET", url) as response,
            ):
                if response.status_code != 200:
                    raise _unreachable(f"HTTP {response.status_code} from the server")
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise too_large("fileUrl", max_bytes)
                ctype = response.headers.get("content-type")
                received.declared_mime = ctype.split(";")[0].strip() if ctype else None
                async for chunk in response.aiter_bytes(1 << 16):
                    await received.write(chunk)
                    if received.size > max_bytes:
                        raise too_large("fileUrl", max_bytes)
        await received.close()
    except BlockedUrl as exc:
        received.discard()
        raise _unreachable(f"refused by the outbound URL guard: {exc}") from None
    except TimeoutError:
        received.discard()
        raise _unreachable(f"no complete answer within {timeout_s:g} s") from None
    except httpx.HTTPError as exc:
        received.discard()
        raise _unreachable(f"{type(exc).__name__}: {exc}".rstrip(": ")) from None
    except BaseException:
        received.discard()
        raise
    return received


def _unreachable(reason: str) -> SourceUnreachable:
    return SourceUnreachable(
        f"Upload failed due to network reasons, please re-enter (fileUrl: {reason})"
    )
