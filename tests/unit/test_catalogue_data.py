"""The catalogue's data: generated from KIE's docs, complete, and its hand-kept parts sound."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from reelserve import catalogue
from reelserve.catalogue import extras
from reelserve.catalogue.extra_schemas import PAGE_SCHEMAS, UNDOCUMENTED
from reelserve.catalogue.fields import media_kind
from reelserve.catalogue.models import load_data
from reelserve.engines.base import Capability, Kind
from reelserve.errors import ValidationFailed

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT.parent / "shared" / "spec" / "kie-openapi.json"
DATA = ROOT / "src" / "reelserve" / "catalogue" / "market_models.json"
needs_spec = pytest.mark.skipif(not SPEC.exists(), reason="the shared spec is not checked out")


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_catalogue", ROOT / "scripts" / "gen_catalogue.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_catalogue", module)
    spec.loader.exec_module(module)
    return module


def _openapi() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SPEC.read_text(encoding="utf-8"))
    return data


@needs_spec
def test_the_committed_data_file_is_what_the_generator_writes_today(tmp_path: Path) -> None:
    out = tmp_path / "market_models.json"
    assert _generator().main(["gen_catalogue.py", str(SPEC), str(out)]) == 0
    assert out.read_bytes() == DATA.read_bytes()


@needs_spec
def test_every_in_scope_market_page_of_the_docs_is_served_by_its_own_name() -> None:
    pages = [
        e for e in _openapi()["endpoints"]
        if e["family"] == "market" and e["path"] == "/api/v1/jobs/createTask"
    ]  # fmt: skip
    served = {m.page: m for m in catalogue.models() if m.documented or m.page in PAGE_SCHEMAS}
    assert len(pages) == 109
    for page in pages:
        assert page["page"] in served, page["page"]
    documented = [m for m in catalogue.models() if m.documented]
    assert len(documented) == 108  # 109 pages; kling-3.0/video is on the spec's extras list


def test_the_docs_own_model_ids_are_served_even_where_a_page_names_another() -> None:
    fixed = catalogue.resolve("kling/v2-5-turbo-image-to-video-pro")
    assert fixed.page == "market/kling/v25-turbo-image-to-video-pro.md"
    assert catalogue.resolve("kling/v2-1-master-image-to-video").page == (
        "market/kling/v2-1-master-image-to-video.md"
    )
    assert catalogue.resolve("qwen2/text-to-image").operation is Capability.TEXT_TO_IMAGE
    assert catalogue.resolve("qwen2/image-edit").page == "market/qwen2/image-edit.md"


def test_models_are_sorted_by_name_unique_and_include_the_synthetic_ones() -> None:
    names = [m.name for m in catalogue.models()]
    assert names == sorted(names)
    assert len(names) == len(set(names)) == 126
    assert {
        "synthetic/text-to-video",
        "synthetic/image-to-video",
        "synthetic/video-to-video",
    } <= set(names)


@pytest.mark.parametrize("name", [*sorted(load_data()["chat_models"]), "claude-3-7", "chat/x"])
def test_a_chat_model_answers_422_saying_chat_models_are_not_served(name: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        catalogue.resolve(name)
    assert caught.value.field == "model"
    assert caught.value.message == f"model: {name}: chat models are not served by this server"


def test_the_chat_pages_names_include_claude_gemini_and_gpt() -> None:
    chat = catalogue.chat_models()
    assert {"claude-sonnet-4-5", "gemini-2.5-pro", "gemini-3-pro", "gpt-5-2", "gpt-codex"} <= chat


def test_an_unknown_model_is_422_listing_the_served_models() -> None:
    with pytest.raises(ValidationFailed) as caught:
        catalogue.resolve("  openai/sora-9 ")
    message = caught.value.message
    assert message.startswith("model: unknown model 'openai/sora-9'; available: ")
    assert all(m.name in message for m in catalogue.models())
    assert "GET /api/v1/jobs/models" in message


@pytest.mark.parametrize(("alias", "target"), sorted(extras.ALIASES.items()))
def test_every_alias_resolves_to_the_documented_model(alias: str, target: str) -> None:
    model = catalogue.resolve(f" {alias} ")
    assert model.name == target
    assert catalogue.resolve(target) is model


def test_the_spec_aliases_are_all_there() -> None:
    assert catalogue.aliases()["google/nanobanana2"] == "nano-banana-2"
    assert catalogue.aliases()["nano-banana-edit"] == "google/nano-banana-edit"
    assert catalogue.aliases()["seedream-4-5-edit"] == "seedream/4.5-edit"
    assert catalogue.aliases()["kling/v25-turbo-text-to-video-pro"] == (
        "kling/v2-5-turbo-text-to-video-pro"
    )


SPEC_EXTRAS = (
    "kling-3.0/video", "bytedance/seedance-2-5", "minimax-h3/text-to-video",
    "minimax-h3/image-to-video", "minimax-h3/reference-to-video", "nano-banana-2-lite",
    "seedream/5-pro-text-to-image", "seedream/5-pro-image-to-image",
    "grok-imagine-image-2-0/text-to-image", "grok-imagine-image-2-0/image-to-image",
    "kling/ai-avatar-v1-pro", "kling/v1-avatar-standard", "omnihuman-1-5",
    "gemini-omni-video", "gpt-image-2",
)  # fmt: skip


@pytest.mark.parametrize("name", SPEC_EXTRAS)
def test_every_model_the_docs_lack_is_served_and_marked_undocumented(name: str) -> None:
    model = catalogue.resolve(name)
    assert model.name == name
    assert model.documented is False
    assert model.page  # the nearest documented sibling's page


def test_the_undocumented_list_is_exactly_the_spec_list_plus_nothing_else() -> None:
    undocumented = {m.name for m in catalogue.models() if not m.documented}
    synthetic = {n for n in undocumented if n.startswith("synthetic/")}
    assert undocumented - synthetic == set(SPEC_EXTRAS)
    assert set(UNDOCUMENTED) | {"kling-3.0/video"} == set(SPEC_EXTRAS)


def test_every_page_without_a_schema_has_a_hand_kept_one() -> None:
    pages = {p["page"] for p in load_data()["pages_without_schema"]}
    assert pages == set(PAGE_SCHEMAS)
    assert catalogue.resolve("sora-2-characters").documented is True
    assert catalogue.resolve("sora-2-characters-pro").operation is Capability.CREATE_CHARACTER


def test_a_field_with_a_default_is_never_required() -> None:
    for model in catalogue.models():
        properties = model.schema["properties"]
        for field in model.schema["required"]:
            assert "default" not in properties[field], (model.name, field)
    sora = catalogue.resolve("sora-2-text-to-video")
    assert "upload_method" not in sora.schema["required"]
    assert "prompt" in sora.schema["required"]


def test_kling_3_needs_neither_multi_shots_nor_multi_prompt() -> None:
    kling = catalogue.resolve("kling-3.0/video")
    assert "multi_shots" not in kling.schema["required"]
    assert "multi_prompt" not in kling.schema["required"]
    values = catalogue.validate(kling, {"prompt": "A fox"})
    assert values["multi_shots"] is False and "multi_prompt" not in values


def test_every_media_field_of_every_schema_is_known_by_name() -> None:
    for model in catalogue.models():
        for field, spec in model.schema["properties"].items():
            marked = "x-accept" in spec or spec.get("format") == "uri"
            marked = marked or (spec.get("items") or {}).get("format") == "uri"
            if marked:
                assert media_kind(field, spec) is not None, (model.name, field)


def test_vendors_follow_the_task_id_rule() -> None:
    vendors = {m.name: m.vendor for m in catalogue.models()}
    assert vendors["kling/v2-1-pro"] == "kling"
    assert vendors["kling-2.6/text-to-video"] == "kling-2.6"
    assert vendors["bytedance/seedance-2"] == "bytedance"
    assert vendors["sora-2-pro-image-to-video"] == "sora-2-pro-image-to-video"
    assert vendors["z-image"] == "z-image"
    assert vendors["gpt-image-2-text-to-image"] == "gptimage"


def test_every_model_has_an_operation_of_its_kind() -> None:
    for model in catalogue.models():
        assert model.kind is model.operation.kind
    kinds = {m.kind for m in catalogue.models()}
    assert kinds == {Kind.VIDEO, Kind.IMAGE, Kind.AUDIO, Kind.TEXT}
