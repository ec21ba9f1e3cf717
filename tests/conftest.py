from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.databases import BACKENDS
from tests.support import RunningServer, StaticHttpServer, run_server


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database a test's server or store runs on: each such test runs on both."""
    return str(request.param)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[RunningServer]:
    """One real server per backend for the session (SQLite file or PostgreSQL database,
    local blobs, in-process worker)."""
    with run_server(tmp_path_factory.mktemp("server"), backend=backend) as running:
        yield running


@pytest.fixture
def fresh_server(tmp_path: Path, backend: str) -> Iterator[RunningServer]:
    with run_server(tmp_path / "data", backend=backend) as running:
        yield running


@pytest.fixture(scope="session")
def static_http() -> Iterator[StaticHttpServer]:
    httpd = StaticHttpServer()
    yield httpd
    httpd.close()
