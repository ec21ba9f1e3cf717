"""One admin, one token (`REELSERVE_ADMIN_TOKEN`): a login sets a signed session cookie.

- The cookie (`HttpOnly`, `SameSite=Strict`, `Secure` when the public URL is
  https) holds a random session id, its expiry and an HMAC over both. The HMAC
  key is derived from the signing secret and the admin token, so changing the
  token ends every session.
- Every state-changing form carries a CSRF token: an HMAC of the session id,
  checked on each POST. The login form has its own double-submit token.
- The console never reads API keys, and the API never reads this cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from fastapi import Request

from reelserve.settings import Settings

COOKIE = "reelserve_console"
LOGIN_COOKIE = "reelserve_console_login"
SESSION_S = 12 * 3600
LOGIN_S = 900


class NotLoggedIn(Exception):
    """No valid session cookie: pages redirect to the login, calls answer 401."""


class BadCsrf(Exception):
    """A state-changing request without its session's CSRF token."""


@dataclass(frozen=True)
class Session:
    id: str
    expires: int
    csrf: str


def _key(settings: Settings) -> bytes:
    material = settings.resolved_signing_secret() + b"\0console\0" + settings.admin_token.encode()
    return hashlib.sha256(material).digest()


def _mac(settings: Settings, *parts: str) -> str:
    return hmac.new(_key(settings), "\n".join(parts).encode(), hashlib.sha256).hexdigest()


def enabled(settings: Settings) -> bool:
    return bool(settings.admin_token)


def token_matches(settings: Settings, given: str) -> bool:
    return enabled(settings) and hmac.compare_digest(given.encode(), settings.admin_token.encode())


def new_session(settings: Settings, now: float | None = None) -> str:
    """The cookie value of a fresh session."""
    session_id = secrets.token_urlsafe(18)
    expires = int((time.time() if now is None else now) + SESSION_S)
    return f"{session_id}.{expires}.{_mac(settings, 'session', session_id, str(expires))}"


def session_of(request: Request) -> Session:
    """The request's valid session, or NotLoggedIn."""
    settings: Settings = request.app.state.settings
    value = request.cookies.get(COOKIE, "")
    parts = value.split(".")
    if not enabled(settings) or len(parts) != 3 or not parts[1].isdigit():
        raise NotLoggedIn()
    session_id, expires, mac = parts
    expected = _mac(settings, "session", session_id, expires)
    if not hmac.compare_digest(mac, expected) or int(expires) < time.time():
        raise NotLoggedIn()
    return Session(session_id, int(expires), _mac(settings, "csrf", session_id))


def check_csrf(session: Session, given: str | None) -> None:
    if not given or not hmac.compare_digest(given, session.csrf):
        raise BadCsrf()


def login_nonce() -> str:
    return secrets.token_urlsafe(18)


def check_login_nonce(request: Request, given: str | None) -> None:
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    if not cookie or not given or not hmac.compare_digest(cookie, given):
        raise BadCsrf()


def cookie_flags(settings: Settings) -> dict[str, object]:
    return {
        "httponly": True,
        "samesite": "strict",
        "secure": settings.public_url.startswith("https://"),
        "path": "/console",
    }
