"""Where the Chromium the browser tests drive is: `REELSERVE_TEST_CHROMIUM`, which
`./scripts/test` sets after installing Debian's `chromium` (missing: a failure under CI,
a skip elsewhere, as for the other services)."""

from __future__ import annotations

import os
import shutil

from tests.services import require_service


def chromium_path() -> str:
    if not os.environ.get("REELSERVE_TEST_CHROMIUM"):
        found = shutil.which("chromium") or shutil.which("chromium-browser")
        if found:
            return found
    return require_service("REELSERVE_TEST_CHROMIUM", "Chromium (for the browser tests)")
