from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import RunningServer, StaticHttpServer, run_server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One real server for the session (SQLite file, local blobs, in-process worker)."""
    with run_server(tmp_path_factory.mktemp("server")) as running:
        yield running


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[RunningServer]:
    with run_server(tmp_path / "data") as running:
        yield running


@pytest.fixture(scope="session")
def static_http() -> Iterator[StaticHttpServer]:
    httpd = StaticHttpServer()
    yield httpd
    httpd.close()
