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


# Seconds each module's tests took in a full `--durations` run of main (facf6af) on a loaded
# 2-core machine, summed per module; only modules of 15 s or more. Rough, and used only to
# order an xdist run: see pytest_collection_modifyitems.
HEAVY_MODULES = {
    "tests/integration/test_market_models.py": 255,
    "tests/engines/test_music_engines.py": 215,
    "tests/engines/test_ace_step.py": 60,
    "tests/integration/test_suno.py": 169,
    "tests/e2e/test_cli_client.py": 160,
    "tests/integration/test_upstream.py": 118,
    "tests/integration/test_veo.py": 112,
    "tests/e2e/test_docs_examples.py": 90,
    "tests/e2e/test_outage_s3.py": 83,
    "tests/integration/test_runway_videos.py": 82,
    "tests/e2e/test_scale_out.py": 71,
    "tests/e2e/test_outage_postgres.py": 66,
    "tests/e2e/test_worker_shutdown.py": 70,
    "tests/engines/test_diffusers_tasks.py": 52,
    "tests/integration/test_outages.py": 50,
    "tests/integration/test_sdk.py": 44,
    "tests/integration/test_credits.py": 40,
    "tests/e2e/test_crash_recovery.py": 37,
    "tests/integration/test_callbacks.py": 32,
    "tests/engines/test_engine_isolation.py": 29,
    "tests/e2e/test_outage_disk.py": 26,
    "tests/engines/test_weights_check.py": 25,
    "tests/engines/test_lyrics_lm.py": 22,
    "tests/e2e/test_upstream_restart.py": 23,
    "tests/integration/test_uploads.py": 20,
    "tests/engines/test_gpu_settings.py": 20,
    "tests/e2e/test_quickstart_demo.py": 20,
    "tests/integration/test_key_limits.py": 18,
    "tests/e2e/test_worker_s3.py": 17,
    "tests/integration/test_s3_media.py": 16,
    "tests/e2e/test_cli.py": 16,
    "tests/integration/test_suno_pg_s3.py": 15,
    "tests/e2e/test_callback_restart.py": 15,
}


@pytest.hookimpl(trylast=True)  # after pytest's own reordering by parametrized fixtures
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist, the heavy modules first, heaviest before lighter; every other module
    after them in collection order; each module's tests in their own order (a stable sort).

    `./scripts/test` runs `pytest -n 2 --dist loadscope --no-loadscope-reorder`: xdist
    hands whole modules to its workers in this order, so the long modules start at once
    and the many short ones fill in at the end, rather than one long module (collected
    late, or with few tests, which xdist's default reorder puts last) running alone while
    the other worker idles. In one process (`-n 0`) the order is pytest's own, which
    groups the tests of each `backend` across modules."""
    if not hasattr(config, "workerinput"):  # not an xdist worker
        return
    items.sort(key=lambda item: -HEAVY_MODULES.get(item.nodeid.split("::", 1)[0], 0))
