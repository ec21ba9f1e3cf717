"""Signed URLs for a task's media, valid until the retention period ends."""

from __future__ import annotations

from reelserve.blobs.signing import UrlSigner
from reelserve.settings import Settings
from reelserve.tasks.models import Task


class MediaLinks:
    def __init__(self, settings: Settings, signer: UrlSigner) -> None:
        self._settings = settings
        self._signer = signer

    def expires_at(self, task: Task) -> int:
        since = task.finished_at or task.created_at
        return int(since + self._settings.media_retention_s())

    def url(self, task: Task, key: str) -> str:
        return self._signer.url(key, self.expires_at(task))
