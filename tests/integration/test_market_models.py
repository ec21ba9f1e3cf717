"""Every catalogue model, run once through a real server on its documented example input.

All models are submitted at once (one module-scoped server, sources on a
loopback HTTP server), then each test waits for its model's task and decodes
what it made: images with the asked ratio within 2 % and `n` images when
asked, MP4s (H.264, faststart) with an AAC track exactly when sound is on and
of the asked length, audio of the asked length, text of the spec's shape;
and its callback with the spec's body.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reelserve import catalogue
from tests.market_models import MarketRun, Submitted, check, serve_sources
from tests.receivers import Receiver
from tests.support import StaticHttpServer, run_server

MODELS = [m for m in catalogue.models() if not m.name.startswith("synthetic/")]


@pytest.fixture(scope="module")
def submitted(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[MarketRun, dict[str, Submitted]]]:
    static = StaticHttpServer()
    with Receiver() as receiver, run_server(tmp_path_factory.mktemp("market")) as server:
        run = MarketRun(server, receiver, serve_sources(static))
        jobs = {model.name: run.submit(model) for model in MODELS}
        yield run, jobs
    static.close()


def test_the_catalogue_serves_every_documented_market_model() -> None:
    documented = [m for m in MODELS if m.documented]
    assert len(documented) >= 100, len(documented)
    assert len(MODELS) >= 110, len(MODELS)


@pytest.mark.parametrize("name", [m.name for m in MODELS])
def test_the_model_makes_what_its_example_asks_for(
    name: str, submitted: tuple[MarketRun, dict[str, Submitted]]
) -> None:
    run, jobs = submitted
    check(run, jobs[name])
