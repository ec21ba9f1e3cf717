"""Domain errors. Each maps to one envelope `code`; the class docstring is the default message."""

from __future__ import annotations

from typing import ClassVar


class ReelserveError(Exception):
    """Internal error"""

    code: ClassVar[int] = 500

    def __init__(
        self, message: str | None = None, *, headers: dict[str, str] | None = None
    ) -> None:
        self.message = message or (self.__class__.__doc__ or "").strip()
        self.headers = headers or {}
        super().__init__(self.message)


class BadRequest(ReelserveError):
    """The request was rejected for its content"""

    code = 400


class Unauthorized(ReelserveError):
    """You do not have access permissions"""

    code = 401


class InsufficientCredits(ReelserveError):
    """Insufficient credits"""

    code = 402


class NotFound(ReelserveError):
    """Not found"""

    code = 404


class ValidationFailed(ReelserveError):
    """Invalid request parameters"""

    code = 422

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        super().__init__(f"{field}: {problem}" if field else problem)


class RateLimited(ReelserveError):
    """Rate limit exceeded"""

    code = 429


class QueueFull(RateLimited):
    """Reached the limit for concurrent generations."""


class Maintenance(ReelserveError):
    """The service is under maintenance, please try again later"""

    code = 455


class FeatureDisabled(ReelserveError):
    """This feature is disabled on this server"""

    code = 505


class SourceUnreachable(ReelserveError):
    """Upload failed due to network reasons, please re-enter"""

    code = 451


class BodyTooLarge(ReelserveError):
    """The request body is too large"""

    code = 413


RETRY_AFTER_S = 5
"""What `Retry-After` tells a client during an outage: soon, but not at once."""


class DependencyUnavailable(ReelserveError):
    """service temporarily unavailable, try again"""

    code = 503
    dependency: ClassVar[str] = "a dependency"
    """What is down, in words (the database, media storage)."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(headers={"Retry-After": str(RETRY_AFTER_S)})
        self.reason = reason

    def __str__(self) -> str:
        return self.reason or self.message


class DatabaseUnavailable(DependencyUnavailable):
    """service temporarily unavailable, try again"""

    dependency = "the database"
