from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from reelserve.store.store import Store
from tests.databases import BACKENDS, database_url


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """An open store on a fresh database of each backend (a SQLite file, a PostgreSQL
    database); modules that need other options define their own `store`."""
    with database_url(request.param, tmp_path) as url:
        s = Store(url)
        await s.open()
        yield s
        await s.close()
