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

from reelserve.client.aio import AsyncClient, AsyncMusicTask, AsyncTask
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
from reelserve.client.suno_models import (
    SUNO_FAILURES,
    AlignedWord,
    BoostedStyle,
    CoverRecord,
    LyricsRecord,
    LyricsSheet,
    MidiInstrument,
    MidiNote,
    MidiRecord,
    MusicRecord,
    MusicVideoRecord,
    Persona,
    Stem,
    StemsRecord,
    SunoTrack,
    TimestampedLyrics,
    WavRecord,
)
from reelserve.client.sync import Client, MusicTask, Task

__all__ = [
    "KIE_BASE_URL",
    "KIE_UPLOAD_BASE_URL",
    "SUNO_FAILURES",
    "APIError",
    "AlephRecord",
    "AlignedWord",
    "AsyncClient",
    "AsyncMusicTask",
    "AsyncTask",
    "BadRequest",
    "BoostedStyle",
    "CallbackDelivery",
    "Client",
    "CoverRecord",
    "DeliveryAttempt",
    "FeatureDisabled",
    "GenerationFailed",
    "InsufficientCredits",
    "LyricsRecord",
    "LyricsSheet",
    "Maintenance",
    "MarketModel",
    "MarketRecord",
    "MidiInstrument",
    "MidiNote",
    "MidiRecord",
    "MusicRecord",
    "MusicTask",
    "MusicVideoRecord",
    "NotFound",
    "Persona",
    "RateLimited",
    "ReelserveError",
    "RetryPolicy",
    "RunwayRecord",
    "ServerError",
    "SourceUnreachable",
    "Stem",
    "StemsRecord",
    "SunoTrack",
    "Task",
    "TaskError",
    "TaskExpired",
    "TaskFailed",
    "TaskRecord",
    "TimestampedLyrics",
    "TransportError",
    "Unauthorized",
    "UploadedFile",
    "ValidationError",
    "WaitTimeout",
    "WavRecord",
    "WebhookVerificationError",
]
