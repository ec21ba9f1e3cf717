"""The market on PostgreSQL with media in S3: one model per output kind, end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from reelserve import catalogue
from tests.market_models import MarketRun, check, serve_sources
from tests.receivers import Receiver
from tests.s3 import s3_overrides
from tests.support import StaticHttpServer, run_server

ONE_PER_KIND = [
    "nano-banana-pro",  # image
    "kling-2.6/text-to-video",  # video with sound
    "elevenlabs/text-to-speech-turbo-2-5",  # audio
    "elevenlabs/speech-to-text",  # text
]


def test_one_model_per_kind_on_postgres_and_s3(tmp_path: Path) -> None:
    static = StaticHttpServer()
    try:
        with (
            Receiver() as receiver,
            run_server(tmp_path / "data", backend="postgres", **s3_overrides()) as server,
        ):
            run = MarketRun(server, receiver, serve_sources(static))
            jobs = [run.submit(catalogue.resolve(name)) for name in ONE_PER_KIND]
            for job in jobs:
                check(run, job)
            # The media really is in the bucket: nothing under the local data dir's blobs.
            local = tmp_path / "data" / "blobs" / "media"
            assert not local.exists() or not any(local.rglob("*.*"))
    finally:
        static.close()


@pytest.mark.parametrize("alias", ["google/nanobanana2", "nano-banana-edit"])
def test_an_alias_is_served_and_echoed_as_sent(alias: str, tmp_path: Path) -> None:
    static = StaticHttpServer()
    try:
        with Receiver() as receiver, run_server(tmp_path / "data") as server:
            run = MarketRun(server, receiver, serve_sources(static))
            job = run.submit(catalogue.resolve(alias), sent=alias)
            check(run, job)
    finally:
        static.close()
