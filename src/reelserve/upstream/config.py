"""Upstream providers as configured: `REELSERVE_UPSTREAM_<NAME>_<SETTING>` (docs/upstream.md).

An upstream is a KIE-compatible API (KIE itself, or another reelserve) that
the engine `upstream:<name>` forwards tasks to. `<NAME>` is upper case in the
environment and lower case (underscores as dashes) in routes:
`REELSERVE_UPSTREAM_KIE_URL=https://api.kie.ai` is `upstream:kie`.

>>> configs = upstreams_from_env({
...     "REELSERVE_UPSTREAM_KIE_URL": "https://api.kie.ai",
...     "REELSERVE_UPSTREAM_KIE_UPLOAD_URL": "https://kieai.redpandaai.co",
...     "REELSERVE_UPSTREAM_KIE_CONCURRENCY": "2",
... })
>>> c = configs["kie"]
>>> (c.url, c.upload_url, c.concurrency, c.engine)
('https://api.kie.ai', 'https://kieai.redpandaai.co', 2, 'upstream:kie')
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

PREFIX = "upstream:"

SETTINGS = {
    "UPLOAD_URL": "upload_url",
    "URL": "url",
    "KEY": "key",
    "POLL_S": "poll_s",
    "TIMEOUT_S": "timeout_s",
    "REQUEST_TIMEOUT_S": "request_timeout_s",
    "CONCURRENCY": "concurrency",
    "RETRIES": "retries",
    "CALLBACKS": "callbacks",
    "SHARE_URLS": "share_urls",
}
"""Environment suffix -> field. Longer suffixes are matched first (UPLOAD_URL before URL)."""

_ENV = re.compile(
    r"^REELSERVE_UPSTREAM_(?P<name>[A-Z0-9]+(?:_[A-Z0-9]+)*?)_(?P<setting>"
    + "|".join(sorted(SETTINGS, key=len, reverse=True))
    + r")$"
)


class UpstreamConfig(BaseModel):
    """One upstream. `url` is the API host; uploads go to `upload_url` (KIE serves them from
    another host; default: `url`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    url: str
    key: str = ""
    upload_url: str = ""
    poll_s: float = Field(default=5.0, gt=0)
    """Longest wait between two polls of the upstream's record (they start at a tenth of it)."""
    timeout_s: float = Field(default=3600.0, gt=0)
    """How long one upstream task may take before it counts as failed (then: the fallback)."""
    request_timeout_s: float = Field(default=30.0, gt=0)
    """One HTTP call to the upstream (create, poll, upload, download's first byte)."""
    concurrency: int = Field(default=4, ge=0)
    """Tasks this server runs on the upstream at once (0: no cap); more wait in the queue."""
    retries: int = Field(default=4, ge=0)
    """Retries of one call that met a 5xx, a 429, a timeout or a network error, with backoff
    (a 429's Retry-After honoured); then the task goes to its route's next engine."""
    callbacks: bool | None = None
    """Ask the upstream to call back (a signed per-task path under REELSERVE_PUBLIC_URL).
    None: when REELSERVE_PUBLIC_URL is not a loopback or private address."""
    share_urls: bool | None = None
    """Pass this server's own file URLs to the upstream as they are (it can fetch them)
    instead of uploading the files. None: the same rule as `callbacks`."""

    @field_validator("url", "upload_url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} must be an http:// or https:// URL")
        return value

    @property
    def engine(self) -> str:
        return PREFIX + self.name

    @property
    def uploads_at(self) -> str:
        return self.upload_url or self.url


def env_name(name: str) -> str:
    """`kie` -> `KIE`, `my-kie` -> `MY_KIE` (as in REELSERVE_UPSTREAM_MY_KIE_URL)."""
    return name.upper().replace("-", "_")


def upstreams_from_env(environ: Mapping[str, str]) -> dict[str, UpstreamConfig]:
    """Every upstream the environment configures; one without a URL is a ValueError."""
    found: dict[str, dict[str, Any]] = {}
    for variable, value in environ.items():
        match = _ENV.match(variable)
        if match is None:
            continue
        name = match["name"].lower().replace("_", "-")
        found.setdefault(name, {"name": name})[SETTINGS[match["setting"]]] = value
    out: dict[str, UpstreamConfig] = {}
    for name, values in sorted(found.items()):
        if not values.get("url"):
            raise ValueError(
                f"upstream {name!r} needs REELSERVE_UPSTREAM_{env_name(name)}_URL "
                f"(it has {', '.join(sorted(k for k in values if k != 'name'))})"
            )
        try:
            out[name] = UpstreamConfig(**values)
        except ValidationError as exc:
            error = exc.errors(include_url=False)[0]
            field = str(error["loc"][0]).upper() if error.get("loc") else "?"
            raise ValueError(
                f"REELSERVE_UPSTREAM_{env_name(name)}_{field}: {error['msg']}"
            ) from None
    return out


def upstream_name(engine: str) -> str | None:
    """`upstream:kie` -> `kie`; None for a local engine."""
    return engine[len(PREFIX) :] if engine.startswith(PREFIX) else None
