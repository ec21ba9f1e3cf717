"""Temporary names for files that must appear atomically (written, then renamed)."""

from __future__ import annotations

import uuid
from pathlib import Path


def temp_path(path: Path) -> Path:
    """A hidden sibling of `path`: same directory so the final rename is atomic.

    Hidden and suffixed `.part`, so directory listings and the janitor can
    tell the file is not finished.
    """
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.part")
