"""The reelserve SDK: typed, sync and async clients of reelserve (and of KIE.AI itself).

Importing it pulls no server dependency (only httpx), so applications can use
it without installing the server's stack.

Example::

    from reelserve.client import Client

    client = Client(api_key="rs_...", base_url="http://127.0.0.1:8000")
    task = client.runway.generate(prompt="A paper boat", duration=5, quality="720p")
    task.wait()
    task.download("boat.mp4")
"""

from __future__ import annotations

from reelserve.client.aio import AsyncClient, AsyncTask
from reelserve.client.calls import RetryPolicy
from reelserve.client.config import KIE_BASE_URL, KIE_UPLOAD_BASE_URL
from reelserve.client.errors import (
    APIError,
    BadRequest,
    FeatureDisabled,
    GenerationFailed,
    InsufficientCredits,
    Maintenance,
    NotFound,
    RateLimited,
    ReelserveError,
    ServerError,
    SourceUnreachable,
    TaskError,
    TaskExpired,
    TaskFailed,
    TransportError,
    Unauthorized,
    ValidationError,
    WaitTimeout,
    WebhookVerificationError,
)
from reelserve.client.models import (
    AlephRecord,
    CallbackDelivery,
    DeliveryAttempt,
    MarketModel,
    MarketRecord,
    RunwayRecord,
    TaskRecord,
    UploadedFile,
)
from reelserve.client.sync import Client, Task

__all__ = [
    "KIE_BASE_URL",
    "KIE_UPLOAD_BASE_URL",
    "APIError",
    "AlephRecord",
    "AsyncClient",
    "AsyncTask",
    "BadRequest",
    "CallbackDelivery",
    "Client",
    "DeliveryAttempt",
    "FeatureDisabled",
    "GenerationFailed",
    "InsufficientCredits",
    "Maintenance",
    "MarketModel",
    "MarketRecord",
    "NotFound",
    "RateLimited",
    "ReelserveError",
    "RetryPolicy",
    "RunwayRecord",
    "ServerError",
    "SourceUnreachable",
    "Task",
    "TaskError",
    "TaskExpired",
    "TaskFailed",
    "TaskRecord",
    "TransportError",
    "Unauthorized",
    "UploadedFile",
    "ValidationError",
    "WaitTimeout",
    "WebhookVerificationError",
]
