from __future__ import annotations

from pathlib import Path

import pytest

from reelserve.engines.base import Capability
from reelserve.settings import Settings, parse_engines


def test_defaults_match_the_design_table(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("REELSERVE_"):
            monkeypatch.delenv(name)
    s = Settings()
    assert s.data_dir == Path("./reelserve-data")
    assert (s.host, s.port, s.public_url) == ("127.0.0.1", 8000, "http://127.0.0.1:8000")
    assert s.http_status == "kie"
    assert s.media_retention_days == 14 and s.upload_retention_hours == 72
    assert s.janitor_interval_s == 300 and s.lease_s == 30 and s.max_attempts == 3
    assert s.callback_timeout_s == 15 and s.callback_retry_delays == (60, 300, 900)
    assert s.allow_private_urls is False and s.maintenance is False
    assert s.disabled_features == frozenset()
    assert all(s.engine_for(op) == "synthetic" for op in Capability)
    assert s.resolved_database_url.endswith("reelserve-data/reelserve.db")


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELSERVE_ENGINES", "text_to_video=ltx-video,video_to_video=wan")
    monkeypatch.setenv("REELSERVE_CALLBACK_RETRY_DELAYS", "1,2.5")
    monkeypatch.setenv("REELSERVE_DISABLED_FEATURES", "uploads, aleph")
    monkeypatch.setenv("REELSERVE_HTTP_STATUS", "rest")
    s = Settings()
    assert s.engine_for(Capability.TEXT_TO_VIDEO) == "ltx-video"
    assert s.engine_for(Capability.VIDEO_TO_VIDEO) == "wan"
    assert s.engine_for(Capability.EXTEND) is None
    assert s.callback_retry_delays == (1, 2.5)
    assert s.disabled_features == {"uploads", "aleph"}
    assert s.http_status == "rest"


def test_a_single_engine_name_serves_every_operation() -> None:
    assert parse_engines("wan") == dict.fromkeys(Capability, "wan")


def test_an_unknown_operation_in_engines_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown operation 'txt2vid'"):
        parse_engines("txt2vid=synthetic")


def test_postgres_urls_use_asyncpg() -> None:
    assert (
        Settings(database_url="postgresql://u:p@h/db").resolved_database_url
        == "postgresql+asyncpg://u:p@h/db"
    )


def test_the_signing_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path).resolved_signing_secret()
    assert first == Settings(data_dir=tmp_path).resolved_signing_secret()
    assert len(first) >= 32
    assert (tmp_path / "signing.key").stat().st_mode & 0o077 == 0
