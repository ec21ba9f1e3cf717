"""API key material: generation and hashing.

Keys are 256-bit random tokens, so a plain SHA-256 is enough to store them
safely (no dictionary to attack, unlike passwords) and keeps lookups O(1).
"""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "rs_"


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def display_prefix(key: str) -> str:
    """The first characters of a key, safe to show in `keys list`."""
    return key[:10]
