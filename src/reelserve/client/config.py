"""What both clients share: where to send a call and how to authorise it."""

from __future__ import annotations

from dataclasses import dataclass

from reelserve import __version__
from reelserve.client.calls import Call, RetryPolicy

KIE_BASE_URL = "https://api.kie.ai"
KIE_UPLOAD_BASE_URL = "https://kieai.redpandaai.co"
"""KIE serves its file-upload API on its own host (its upload docs' base URL)."""
USER_AGENT = f"reelserve-sdk/{__version__}"
DEFAULT_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class ClientConfig:
    api_key: str
    base_url: str
    upload_base_url: str
    retry: RetryPolicy

    @classmethod
    def make(
        cls,
        api_key: str,
        base_url: str,
        upload_base_url: str | None,
        retry: RetryPolicy | None,
    ) -> ClientConfig:
        if not api_key:
            raise ValueError("api_key is required")
        if not base_url or not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        base = base_url.rstrip("/")
        return cls(
            api_key=api_key,
            base_url=base,
            upload_base_url=(upload_base_url or base).rstrip("/"),
            retry=retry or RetryPolicy(),
        )

    def url(self, call: Call[object]) -> str:
        return (self.upload_base_url if call.host == "upload" else self.base_url) + call.path

    @property
    def auth_headers(self) -> dict[str, str]:
        # Per request, not on the httpx client: media downloads go to signed URLs,
        # possibly on another host, and must not carry the key.
        return {"Authorization": f"Bearer {self.api_key}"}
