"""Blob key rules, shared by every store: relative, '/'-separated, no traversal."""

from __future__ import annotations

import re

_SEGMENT = re.compile(r"^[A-Za-z0-9._~@+=-][A-Za-z0-9._~@+=\- ]*$")


class InvalidBlobKey(ValueError):
    pass


def check_key(key: str) -> str:
    """Return `key` if it is a safe blob key, else raise InvalidBlobKey."""
    if not key or key.startswith("/") or len(key) > 1024:
        raise InvalidBlobKey(key)
    for segment in key.split("/"):
        if segment in ("", ".", "..") or not _SEGMENT.match(segment):
            raise InvalidBlobKey(key)
    return key
