"""HMAC-signed media URLs: `{public_url}/files/{key}?expires=<unix>&sig=<hmac>`.

The signature covers the key and the expiry, so neither can be changed
without the server noticing (403). URLs stay valid for the retention period.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

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

    def is_own(self, url: str) -> bool:
        """Whether `url` is a media URL of this server (signed or not)."""
        return is_own_file_url(url, self.public_url)

    def verified_key(
        self, url: str, now: float | None = None, *, allow_lapsed: bool = False
    ) -> str | None:
        """The blob key an own URL names when its signature holds (and, unless
        `allow_lapsed`, has not lapsed); else None."""
        if not self.is_own(url):
            return None
        parts = urlsplit(url)
        key = unquote(parts.path[len(urlsplit(self.public_url).path) + len(FILES_PREFIX) :])
        query = parse_qs(parts.query)
        try:
            expires = int(query["expires"][0])
            sig = query["sig"][0]
        except (KeyError, IndexError, ValueError):
            return None
        if not self.verify(key, expires, sig):
            return None
        if not allow_lapsed and self.expired(expires, now):
            return None
        return key


def is_own_file_url(url: str, public_url: str) -> bool:
    """Whether `url` points at this server's `/files/` route (read from the store, not fetched)."""
    return url.startswith(public_url.rstrip("/") + FILES_PREFIX)
