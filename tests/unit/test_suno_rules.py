"""Suno's rules without a server: lengths, customMode, per-version limits, ids, the schemas file."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from reelserve.errors import ValidationFailed
from reelserve.families.suno import rules, schemas

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT.parent / "shared" / "spec" / "kie-openapi.json"
DATA = ROOT / "src" / "reelserve" / "families" / "suno" / "endpoints.json"


def test_the_committed_schemas_are_what_the_generator_writes_today() -> None:
    assert SPEC.exists(), "the shared spec (../shared/spec) must be checked out beside the repo"
    sys.path.insert(0, str(ROOT / "scripts"))
    spec = importlib.util.spec_from_file_location(
        "gen_suno", ROOT / "scripts" / "gen_suno_schemas.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.render(SPEC) == DATA.read_text()
    # 24 of the 25 endpoints have a body; record-info GETs have none; persona is hand-kept.
    assert len(schemas.schemas()) == 18


@pytest.mark.parametrize(
    ("lyrics", "seconds"),
    [
        (None, 60.0),
        ("", 60.0),
        ("[Verse]\n[Chorus]\n", 60.0),
        ("one line", 34.0),
        ("[Verse]\na\n\nb\n[Chorus]\nc", 42.0),
        ("\n".join(["la"] * 60), 240.0),
    ],
)
def test_a_track_lasts_30_s_plus_4_s_per_lyric_line_at_most_240(
    lyrics: str | None, seconds: float
) -> None:
    assert rules.track_seconds(lyrics) == seconds


def test_track_ids_name_their_song_and_index() -> None:
    task_id = rules.new_music_id()
    assert task_id.startswith("suno_") and len(task_id) == 37 and task_id.endswith("0")
    ids = [rules.track_id(task_id, i) for i in range(2)]
    assert ids[0] != ids[1]
    assert [rules.parse_track_id(i) for i in ids] == [(task_id, 0), (task_id, 1)]
    assert rules.parse_track_id(ids[0].upper()) == (task_id, 0)
    assert rules.parse_track_id("not-a-track") is None


@pytest.mark.parametrize(
    ("custom", "instrumental", "prompt", "style", "title", "version", "field"),
    [
        (True, False, "", "pop", "T", "V5", "prompt"),
        (True, True, "", "", "T", "V5", "style"),
        (True, True, "", "pop", "", "V5", "title"),
        (False, False, "", "", "", "V5", "prompt"),
        (False, False, "x" * 501, "", "", "V5", "prompt"),
        (True, False, "x" * 3001, "pop", "T", "V4", "prompt"),
        (True, False, "x" * 3001, "pop", "T", "V3_5", "prompt"),
        (True, False, "x" * 5001, "pop", "T", "V5_5", "prompt"),
        (True, False, "la", "s" * 201, "T", "V4", "style"),
        (True, False, "la", "s" * 1001, "T", "V4_5", "style"),
        (True, False, "la", "pop", "t" * 81, "V5", "title"),
    ],
)
def test_custom_mode_rules_name_the_field(
    custom: bool,
    instrumental: bool,
    prompt: str,
    style: str,
    title: str,
    version: str,
    field: str,
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        rules.custom_fields(
            custom=custom,
            instrumental=instrumental,
            prompt=prompt,
            style=style,
            title=title,
            version=version,
        )
    assert caught.value.field == field


def test_within_the_limits_custom_mode_passes() -> None:
    rules.custom_fields(
        custom=True,
        instrumental=False,
        prompt="x" * 3000,
        style="s" * 200,
        title="t" * 80,
        version="V4",
    )
    rules.custom_fields(
        custom=True,
        instrumental=False,
        prompt="x" * 5000,
        style="s" * 1000,
        title="t" * 80,
        version="V5_5",
    )
    rules.custom_fields(
        custom=True, instrumental=True, prompt="", style="pop", title="T", version="V5"
    )
    rules.custom_fields(
        custom=False, instrumental=False, prompt="x" * 500, style="", title="", version="V5"
    )


def test_v3_5_is_accepted_where_the_docs_list_every_version_and_unknown_ones_are_not() -> None:
    body = {
        "customMode": False,
        "instrumental": True,
        "prompt": "rain",
        "callBackUrl": "https://e.com/c",
    }
    assert schemas.check("/api/v1/generate", {**body, "model": "V3_5"})["model"] == "V3_5"
    assert schemas.check("/api/v1/generate", {**body, "model": "v5"})["model"] == "V5"
    with pytest.raises(ValidationFailed) as caught:
        schemas.check("/api/v1/generate", {**body, "model": "V6"})
    assert caught.value.field == "model" and "V5_5" in caught.value.message
    with pytest.raises(ValidationFailed) as sounds:
        schemas.check("/api/v1/generate/sounds", {"prompt": "rain", "model": "V3_5"})
    assert sounds.value.field == "model"


def test_nan_anywhere_in_a_body_is_a_422_naming_its_field() -> None:
    body = {"prompt": "rain", "model": "V5", "extra": {"deep": [float("nan")]}}
    with pytest.raises(ValidationFailed) as caught:
        schemas.check("/api/v1/generate/sounds", body)
    assert caught.value.field == "extra"
    with pytest.raises(ValidationFailed) as infinite:
        schemas.check(
            "/api/v1/generate/sounds", {**body, "extra": None, "soundTempo": float("inf")}
        )
    assert infinite.value.field == "soundTempo"
