"""Readiness of a process that runs a worker (its engines loaded), and `/metrics` of an app
made in-process (no metrics directory: this process's own registry), open without a token."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support import RunningServer, run_server


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with run_server(
        tmp_path_factory.mktemp("broken-engine"),
        engine_plugins={"broken": "tests.engines_for_tests:BrokenSetupEngine"},
        routes="image_to_video=broken;*=synthetic",
    ) as server:
        yield server


def test_readyz_is_503_naming_an_engine_that_could_not_be_set_up(broken: RunningServer) -> None:
    answer = httpx.get(broken.base_url + "/readyz")
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"
    assert answer.json() == {
        "status": "unavailable",
        "database": "ok",
        "storage": "ok",
        "engines": "unavailable: broken: RuntimeError: no weights in /nowhere",
    }
    assert httpx.get(broken.base_url + "/healthz").status_code == 200


def test_metrics_are_open_without_a_token_and_count_this_process(broken: RunningServer) -> None:
    def requests_to_healthz(text: str) -> float:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "reelserve_http_requests_total" and sample.labels == {
                    "route": "/healthz",
                    "method": "GET",
                    "status": "200",
                }:
                    return sample.value
        return 0.0

    first = httpx.get(broken.base_url + "/metrics")
    assert first.status_code == 200
    httpx.get(broken.base_url + "/healthz")
    second = httpx.get(broken.base_url + "/metrics")
    assert requests_to_healthz(second.text) == requests_to_healthz(first.text) + 1
