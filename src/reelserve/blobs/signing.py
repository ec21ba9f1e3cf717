"""HMAC-signed media URLs: `{public_url}/files/{key}?expires=<unix>&sig=<hmac>`.

The signature covers the key and the expiry, so neither can be changed
without the server noticing (403). URLs stay valid for the retention period.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import quote, urlencode

FILES_PREFIX = "/files/"


class UrlSigner:
    def __init__(self, secret: bytes, public_url: str) -> None:
        self._secret = secret
        self.public_url = public_url.rstrip("/")

    def signature(self, key: str, expires: int) -> str:
        mac = hmac.new(self._secret, f"{key}\n{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    def url(self, key: str, expires: int) -> str:
        query = urlencode({"expires": expires, "sig": self.signature(key, expires)})
        return f"{self.public_url}{FILES_PREFIX}{quote(key)}?{query}"

    def verify(self, key: str, expires: int, sig: str) -> bool:
        return hmac.compare_digest(self.signature(key, expires), sig)

    @staticmethod
    def expired(expires: int, now: float | None = None) -> bool:
        return (now if now is not None else time.time()) > expires
