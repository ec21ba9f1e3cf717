"""HTTP to one upstream in KIE's wire format: create, poll, upload, download, credit.

Every answer is read as KIE's envelope (`{code, msg, data}`; the HTTP status
when there is no envelope) and sorted into one of three errors:

- `UpstreamRejected`: the input was at fault (400, 413, 422 and the other 4xx
  not named below). The task fails with the upstream's code and message.
- `UpstreamDown`: worth retrying (5xx, 429, 455 maintenance, a timeout, a
  refused or reset connection). Calls are retried with backoff, a 429's or
  503's `Retry-After` honoured, `retries` times; then the task goes to its
  route's next engine.
- `UpstreamUnusable`: not the input's fault and not going to pass by retrying
  (401/403 a wrong key, 402 no credits upstream, 404 an endpoint it lacks,
  505 a feature it disabled): the next engine, at once.

A create is retried only when it certainly did not reach the upstream (the
connection failed) or the upstream answered that it made nothing (5xx, 429);
a create whose answer was lost after it was sent is not sent again, so a task
is never paid for twice. It carries an `Idempotency-Key` for upstreams that
honour one.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import time
from collections.abc import Awaitable, Callable
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx

from reelserve.observability import metrics
from reelserve.retry import backoff
from reelserve.security.urlguard import outbound_transport
from reelserve.upstream.config import UpstreamConfig

log = logging.getLogger("reelserve.upstream")

T = TypeVar("T")

RETRY_AFTER_CAP_S = 120.0
"""The longest Retry-After honoured (a longer one is waited out this long, then retried)."""

PAYMENT_REQUIRED: dict[str, int] = {}
"""402 answers by upstream name since the process started (the operator's counter)."""

_UNUSABLE = frozenset({401, 402, 403, 404, 405, 505})
_TRANSIENT = frozenset({408, 425, 429, 455})


class UpstreamError(Exception):
    def __init__(self, upstream: str, code: int, message: str) -> None:
        super().__init__(f"upstream {upstream}: {message} (code {code})")
        self.upstream = upstream
        self.code = code
        self.message = message


class UpstreamRejected(UpstreamError):
    """The upstream refused the input (its fault): fail the task with this code and message."""


class UpstreamUnusable(UpstreamError):
    """The upstream cannot serve this (wrong key, no credits, no such endpoint): fall back."""


class UpstreamDown(UpstreamError):
    """Unreachable or failing for now; `retry_after` seconds when it said so."""

    def __init__(
        self, upstream: str, code: int, message: str, retry_after: float | None = None
    ) -> None:
        super().__init__(upstream, code, message)
        self.retry_after = retry_after


class _Unsent(Exception):
    """The request certainly did not reach the upstream (safe to send again)."""


def classify(upstream: str, code: int, message: str, retry_after: float | None = None) -> Exception:
    """The error an upstream answer `code` means (see the module docstring)."""
    if code in _TRANSIENT or (code >= 500 and code != 505):
        return UpstreamDown(upstream, code, message, retry_after)
    if code in _UNUSABLE:
        return UpstreamUnusable(upstream, code, message)
    if 400 <= code < 500:
        return UpstreamRejected(upstream, code, message)
    return UpstreamDown(upstream, code, message, retry_after)


def retry_after_s(value: str | None) -> float | None:
    """A Retry-After header (seconds or an HTTP date) in seconds; None when absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(text).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class UpstreamClient:
    """One upstream's HTTP calls. `sleep` is how a retry waits (tests and the lease see it)."""

    def __init__(
        self,
        config: UpstreamConfig,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        allow_private: bool = True,
    ) -> None:
        self.config = config
        self._sleep = sleep
        self._allow_private = allow_private
        self._http: httpx.AsyncClient | None = None
        self._files: httpx.AsyncClient | None = None

    @property
    def name(self) -> str:
        return self.config.name

    def _client(self) -> httpx.AsyncClient:
        if self._http is None or self._http.is_closed:
            headers = {"User-Agent": "reelserve-upstream"}
            if self.config.key:
                headers["Authorization"] = f"Bearer {self.config.key}"
            self._http = httpx.AsyncClient(
                headers=headers,
                timeout=httpx.Timeout(self.config.request_timeout_s),
                follow_redirects=True,
                max_redirects=5,
            )
        return self._http

    def _files_client(self) -> httpx.AsyncClient:
        """Result files: no upstream key (they are often on a CDN or a presigned S3 URL, and
        the key must not leave for another host), and the outbound URL guard, the
        upstream's own hosts exempt (they were configured by the operator)."""
        if self._files is None or self._files.is_closed:
            exempt = [_host_port(self.config.url), _host_port(self.config.uploads_at)]
            self._files = httpx.AsyncClient(
                headers={"User-Agent": "reelserve-upstream"},
                timeout=httpx.Timeout(self.config.request_timeout_s),
                follow_redirects=True,
                max_redirects=5,
                transport=outbound_transport(self._allow_private, exempt),
            )
        return self._files

    async def close(self) -> None:
        for client in (self._http, self._files):
            if client is not None:
                await client.aclose()

    # --- calls -----------------------------------------------------------------

    async def create(self, path: str, body: dict[str, Any], idempotency_key: str) -> Any:
        """POST a create; its `data` (which holds the upstream's `taskId`)."""
        url = self.config.url + path
        headers = {"Idempotency-Key": idempotency_key}
        return await self._retried(
            lambda: self._request("POST", url, json=body, headers=headers, safe=False)
        )

    async def record(self, path: str, task_id: str) -> Any:
        """GET a record endpoint for the upstream task; its `data`."""
        url = self.config.url + path
        return await self._retried(
            lambda: self._request("GET", url, params={"taskId": task_id}, safe=True)
        )

    async def cancel(self, task_id: str) -> None:
        """Ask the upstream to cancel its task (reelserve's `POST /api/v1/tasks/cancel`; KIE has
        no cancel, so any answer is accepted): best effort, one try."""
        url = self.config.url + "/api/v1/tasks/cancel"
        try:
            await self._request("POST", url, json={"taskId": task_id}, safe=True)
        except (UpstreamError, _Unsent) as exc:
            log.info("upstream %s: cancel of %s not taken (%s)", self.name, task_id, exc)

    async def credit(self) -> Any:
        """The key's credit balance (`GET /api/v1/chat/credit`)."""
        url = self.config.url + "/api/v1/chat/credit"
        return await self._retried(lambda: self._request("GET", url, safe=True))

    async def upload(self, path: Path, name: str, mime: str) -> str:
        """Upload a file through the upstream's file API; the URL the upstream reads it from."""
        url = self.config.uploads_at + "/api/file-stream-upload"

        async def send() -> Any:
            with path.open("rb") as handle:
                files = {"file": (name, handle, mime or _mime(name))}
                data = {"uploadPath": "reelserve", "fileName": name}
                return await self._request("POST", url, files=files, data=data, safe=True)

        data = await self._retried(send)
        found = data.get("downloadUrl") or data.get("fileUrl") if isinstance(data, dict) else None
        if not isinstance(found, str) or not found:
            raise UpstreamDown(self.name, 502, "the file upload answered without a downloadUrl")
        return found

    async def download(self, url: str, dest: Path, limit: int) -> str:
        """GET a result file into `dest` (at most `limit` bytes); its Content-Type."""

        async def fetch() -> str:
            try:
                same_host = _host_port(url) == _host_port(self.config.url)
                client = self._client() if same_host else self._files_client()
                async with client.stream("GET", url) as response:
                    if response.status_code != 200:
                        error = classify(
                            self.name,
                            response.status_code,
                            f"HTTP {response.status_code} for a result file",
                            retry_after_s(response.headers.get("retry-after")),
                        )
                        if isinstance(error, UpstreamRejected):  # gone or refused: not the input
                            error = UpstreamUnusable(self.name, error.code, error.message)
                        raise error
                    size = 0
                    with dest.open("wb") as out:
                        async for chunk in response.aiter_bytes():
                            size += len(chunk)
                            if size > limit:
                                raise UpstreamUnusable(
                                    self.name, 413, f"a result file is larger than {limit} bytes"
                                )
                            out.write(chunk)
                    return str(response.headers.get("content-type") or "")
            except httpx.HTTPError as exc:
                raise UpstreamDown(self.name, 503, _describe(exc)) from None

        return await self._retried(fetch)

    # --- plumbing ----------------------------------------------------------------

    async def _retried(self, call: Callable[[], Awaitable[T]]) -> T:
        tries = 0
        while True:
            tries += 1
            try:
                return await call()
            except _Unsent as exc:
                error: UpstreamDown = UpstreamDown(self.name, 503, str(exc))
            except UpstreamDown as exc:
                if exc.code == 0:  # sent, answer lost: not safe to send again
                    raise UpstreamDown(self.name, 504, exc.message) from None
                error = exc
            if tries > self.config.retries:
                raise error
            wait = backoff(tries, base_s=0.5, cap_s=30.0)
            if error.retry_after is not None:
                wait = min(RETRY_AFTER_CAP_S, max(wait, error.retry_after))
            log.info(
                "upstream %s: %s; retry %d/%d in %.1f s",
                self.name,
                error.message,
                tries,
                self.config.retries,
                wait,
            )
            await self._sleep(wait)

    async def _request(self, method: str, url: str, *, safe: bool, **kwargs: Any) -> Any:
        """One call; its envelope's `data`, or the error its answer means.

        `safe`: the call may be sent again whatever happened (reads, uploads).
        """
        try:
            response = await self._client().request(method, url, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise _Unsent(_describe(exc)) from None
        except httpx.HTTPError as exc:
            # Sent; the answer never came (a hang or a reset mid-answer).
            raise UpstreamDown(self.name, 503 if safe else 0, _describe(exc)) from None
        retry_after = retry_after_s(response.headers.get("retry-after"))
        try:
            envelope = response.json()
        except ValueError:
            envelope = None
        if not isinstance(envelope, dict) or "code" not in envelope:
            if response.status_code == 200:
                raise UpstreamDown(self.name, 502, "the answer was not KIE's JSON envelope")
            raise self._error(response.status_code, f"HTTP {response.status_code}", retry_after)
        code = _int(envelope.get("code"), response.status_code)
        message = str(envelope.get("msg") or envelope.get("message") or f"code {code}")
        if code != 200:
            raise self._error(code, message, retry_after)
        if response.status_code >= 400:
            raise self._error(response.status_code, message, retry_after)
        return envelope.get("data")

    def _error(self, code: int, message: str, retry_after: float | None) -> Exception:
        if code == 402:
            PAYMENT_REQUIRED[self.name] = PAYMENT_REQUIRED.get(self.name, 0) + 1
            metrics.payment_required(self.name)
            log.error(
                "upstream %s answered 402 (its key has no credits left): %s; "
                "top up the upstream account (402 answers so far: %d)",
                self.name,
                message,
                PAYMENT_REQUIRED[self.name],
            )
            message = f"its key has no credits left ({message})"
        return classify(self.name, code, message, retry_after)


def _host_port(url: str) -> tuple[str, int]:
    parts = httpx.URL(url)
    return (parts.host, parts.port or (443 if parts.scheme == "https" else 80))


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _describe(exc: httpx.HTTPError) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"


def _mime(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"
