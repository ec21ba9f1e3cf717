"""`reelserve upstream check NAME` against a real upstream (a second reelserve)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster import REPO
from tests.upstreams import UpstreamServer


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UpstreamServer]:
    with UpstreamServer(tmp_path_factory.mktemp("upstream")) as up:
        yield up


def check(tmp_path: Path, name: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {
        **{k: v for k, v in os.environ.items() if not k.startswith("REELSERVE_")},
        "PYTHONPATH": str(REPO),
        "REELSERVE_DATA_DIR": str(tmp_path),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "reelserve", "upstream", "check", name],
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_check_shows_reachability_credentials_credits_and_routes(
    tmp_path: Path, upstream: UpstreamServer
) -> None:
    done = check(
        tmp_path,
        "mine",
        REELSERVE_UPSTREAM_MINE_URL=upstream.base_url,
        REELSERVE_UPSTREAM_MINE_KEY=upstream.key,
        REELSERVE_ROUTES="kling-*=upstream:mine,synthetic;*=synthetic",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert f"upstream:mine  {upstream.base_url}" in out
    assert "reachable    yes" in out and "credentials  accepted" in out
    assert "credits      2147483647" in out  # the upstream key is unlimited
    assert "kling-*=upstream:mine,synthetic" in out


def test_check_fails_on_a_wrong_key_an_unreachable_host_and_an_unknown_name(
    tmp_path: Path, upstream: UpstreamServer
) -> None:
    wrong = check(
        tmp_path,
        "mine",
        REELSERVE_UPSTREAM_MINE_URL=upstream.base_url,
        REELSERVE_UPSTREAM_MINE_KEY="sk-wrong",
    )
    assert wrong.returncode == 1 and "credentials  refused" in wrong.stdout, wrong.stdout
    down = check(tmp_path, "gone", REELSERVE_UPSTREAM_GONE_URL="http://127.0.0.1:9")
    assert down.returncode == 1 and "reachable    no" in down.stdout, down.stdout
    unknown = check(tmp_path, "nope")
    assert unknown.returncode == 2
    assert "REELSERVE_UPSTREAM_NOPE_URL" in unknown.stderr
