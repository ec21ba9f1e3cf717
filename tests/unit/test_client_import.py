"""Importing the SDK pulls no server dependency: checked in a clean interpreter."""

from __future__ import annotations

import json
import subprocess
import sys

SERVER_DEPENDENCIES = {
    "fastapi",
    "starlette",
    "sqlalchemy",
    "av",
    "numpy",
    "pydantic",
    "pydantic_settings",
    "uvicorn",
    "alembic",
    "orjson",
    "PIL",
    "aiosqlite",
    "asyncpg",
}


def test_importing_the_sdk_loads_no_server_dependency() -> None:
    code = (
        "import json, sys; import reelserve.client, reelserve.client.webhooks; "
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    loaded = {name.split(".")[0] for name in json.loads(out)}
    assert "httpx" in loaded  # the check sees real imports
    assert loaded & SERVER_DEPENDENCIES == set()
    reelserve_modules = {m for m in json.loads(out) if m.startswith("reelserve.")}
    assert all(m.startswith("reelserve.client") for m in reelserve_modules), reelserve_modules
