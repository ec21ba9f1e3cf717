"""The SDK's exceptions: one root, one subclass per envelope `code` (spec §0).

The server answers either HTTP 200 with the outcome in the envelope's `code`
(KIE's way, the default) or an HTTP status equal to `code`
(`REELSERVE_HTTP_STATUS=rest`); `error_for` reads both the same way.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ReelserveError(Exception):
    """Anything the SDK raises. `code` is the envelope code (or HTTP status), 0 if none."""

    code: ClassVar[int] = 0

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        http_status: int | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code  # type: ignore[misc]  # an instance may carry the exact code
        self.http_status = http_status
        self.body = body


class APIError(ReelserveError):
    """The server answered with a code this SDK has no class for."""


class BadRequest(APIError):
    """The request was refused for its content (moderation, format)."""

    code = 400


class Unauthorized(APIError):
    """No API key, or one the server does not know (or revoked)."""

    code = 401


class InsufficientCredits(APIError):
    """The key's balance does not cover the task; nothing was queued."""

    code = 402


class NotFound(APIError):
    """No such task or resource (also: another key's task)."""

    code = 404


class ValidationError(APIError):
    """A parameter is missing, of the wrong type or out of range; `field` names it."""

    code = 422

    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        # The server writes "<field>: <problem>"; a message without a colon names no field.
        head, sep, _ = message.partition(": ")
        self.field: str | None = head if sep and " " not in head else None


class RateLimited(APIError):
    """Too many new tasks; `retry_after` is the server's `Retry-After` in seconds (or None)."""

    code = 429

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class SourceUnreachable(APIError):
    """A URL upload's `fileUrl` could not be fetched."""

    code = 451


class Maintenance(APIError):
    """The operator put the server in maintenance; new work is refused."""

    code = 455


class ServerError(APIError):
    """An internal error on the server (500, or a 5xx from a proxy in front of it)."""

    code = 500


class GenerationFailed(APIError):
    """Generation failed (market code 501)."""

    code = 501


class FeatureDisabled(APIError):
    """The operator disabled this feature, or no engine serves it."""

    code = 505


class TransportError(ReelserveError):
    """The server could not be reached, or the connection broke (after any retries)."""


class TaskError(ReelserveError):
    """A task did not end the way `Task.wait` promises."""

    def __init__(self, message: str, *, task_id: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.task_id = task_id


class TaskFailed(TaskError):
    """The task ended in failure; `fail_code` and `fail_msg` say why."""

    def __init__(self, task_id: str, fail_code: int | None, fail_msg: str) -> None:
        super().__init__(
            f"task {task_id} failed ({fail_code}): {fail_msg}", task_id=task_id, code=fail_code
        )
        self.fail_code = fail_code
        self.fail_msg = fail_msg


class TaskExpired(TaskError):
    """The task succeeded, but its media was deleted after the retention period."""


class WaitTimeout(TaskError, TimeoutError):
    """`Task.wait` gave up before the task ended; the task itself goes on."""


class WebhookVerificationError(ReelserveError):
    """A callback's signature is missing, wrong, or outside the replay window."""


_BY_CODE: dict[int, type[APIError]] = {
    cls.code: cls
    for cls in (
        BadRequest,
        Unauthorized,
        InsufficientCredits,
        NotFound,
        ValidationError,
        RateLimited,
        SourceUnreachable,
        Maintenance,
        ServerError,
        GenerationFailed,
        FeatureDisabled,
    )
}


def error_for(
    code: int,
    message: str,
    *,
    http_status: int | None = None,
    retry_after: float | None = None,
    body: Any = None,
) -> APIError:
    """The exception for an envelope code (a 5xx without a class of its own is a ServerError)."""
    cls = _BY_CODE.get(code) or (ServerError if 500 <= code < 600 else APIError)
    if cls is RateLimited:
        return RateLimited(
            message, retry_after=retry_after, code=code, http_status=http_status, body=body
        )
    return cls(message, code=code, http_status=http_status, body=body)
