"""Services the suite needs but does not run itself (PostgreSQL, the S3 server).

`./scripts/test` starts them and exports where they are. A test that needs one
that is missing fails under CI (`CI` set): the script should have started it.
Elsewhere (a bare `pytest` on a laptop) it is skipped with the reason.
"""

from __future__ import annotations

import os

import pytest


def require_service(env_var: str, what: str) -> str:
    """The value of `env_var`, which `./scripts/test` sets when it starts `what`."""
    value = os.environ.get(env_var, "")
    if value:
        return value
    message = f"{what} is not running: {env_var} is unset (./scripts/test starts it)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
