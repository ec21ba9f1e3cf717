"""Derive `src/reelserve/catalogue/market_models.json` from KIE's docs (`kie-openapi.json`).

    .venv/bin/python scripts/gen_catalogue.py [path-to-kie-openapi.json]

The default input is `../shared/spec/kie-openapi.json` relative to the repo
root. For every market page with a createTask schema it writes the model's
name, page, vendor, summary, cleaned input schema and documented example
values; it also lists the pages that have no machine-readable schema (their
schemas are hand-kept in `catalogue/extra_schemas.py`) and the chat models'
names (answered with a 422, spec §1). The output is deterministic (sorted
keys, fixed indentation), so a test can regenerate it and compare bytes.

Cleaning: apidog's `x-apidog-*` keys go; `examples` move out of the schema
into the model's `examples` (placeholders such as `{}`, `[[]]` or `""` are
dropped); field names the docs print with a trailing space are stripped,
the printed name kept as `x-doc-name` (spec §2 Decision — lenient types).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from reelserve.catalogue.extras import PAGE_MODEL_IDS, vendor_of  # noqa: E402

DEFAULT_SOURCE = ROOT.parent / "shared" / "spec" / "kie-openapi.json"
OUTPUT = ROOT / "src" / "reelserve" / "catalogue" / "market_models.json"
CREATE_TASK = "/api/v1/jobs/createTask"
KEEP = (
    "type", "enum", "default", "minimum", "maximum", "minLength", "maxLength",
    "minItems", "maxItems", "items", "properties", "required", "format",
    "pattern", "description", "x-accept", "x-max-mb",
)  # fmt: skip
GENERIC_PATH_PARTS = ("api", "codex", "claude", "gemini")


def clean(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with only validation keywords; nested items/properties cleaned too."""
    out: dict[str, Any] = {}
    for key in KEEP:
        if key not in schema:
            continue
        value = schema[key]
        if key == "items" and isinstance(value, dict):
            value = clean(value)
        elif key == "properties":
            value = {name.strip(): _field(name, spec) for name, spec in value.items()}
        elif key == "required":
            value = sorted({str(name).strip() for name in value})
        out[key] = value
    return out


def _field(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    out = clean(spec)
    if name != name.strip():
        out["x-doc-name"] = name
    return out


def placeholder(value: Any) -> bool:
    """apidog's empty example values: `""`, `{}`, `[]`, `[{}]`, `[[]]`..."""
    if value is None or value == "":
        return True
    if isinstance(value, dict):
        return not value
    if isinstance(value, list):
        return all(placeholder(v) for v in value)
    return False


def example_of(spec: dict[str, Any]) -> Any:
    """The field's first documented example; for arrays of objects, one item built from theirs."""
    for value in spec.get("examples", []):
        if not placeholder(value):
            return value
    items = spec.get("items") or {}
    if spec.get("type") == "array" and items.get("type") == "object":
        item = {n: example_of(s) for n, s in (items.get("properties") or {}).items()}
        item = {n: v for n, v in item.items() if v is not None}
        if item and all(name in item for name in items.get("required", [])):
            return [item]
    return None


def market_entry(endpoint: dict[str, Any]) -> dict[str, Any] | None:
    request = endpoint.get("request") or {}
    input_schema = (request.get("properties") or {}).get("input")
    if not input_schema:
        return None
    page = endpoint["page"]
    enum = (request["properties"].get("model") or {}).get("enum") or []
    name = PAGE_MODEL_IDS.get(page) or endpoint.get("model") or enum[0]
    examples = {}
    for field, spec in (input_schema.get("properties") or {}).items():
        value = example_of(spec)
        if value is not None:
            examples[field.strip()] = value
    schema = clean(input_schema)
    schema.setdefault("type", "object")
    schema.setdefault("properties", {})
    schema.setdefault("required", [])
    return {
        "name": name,
        "page": page,
        "vendor": vendor_of(name),
        "description": endpoint.get("summary") or "",
        "documented": True,
        "doc_model_enum": enum,
        "input": schema,
        "examples": examples,
    }


def chat_names(endpoint: dict[str, Any]) -> set[str]:
    """A chat page's model names: its `model`, the path's model part, the page's stem."""
    names = {Path(endpoint["page"]).stem}
    if endpoint.get("model"):
        names.add(endpoint["model"])
    first = endpoint["path"].strip("/").split("/", 1)[0]
    if first and first not in GENERIC_PATH_PARTS:
        names.add(first)
    return names


def generate(source: dict[str, Any]) -> str:
    models: dict[str, dict[str, Any]] = {}
    without_schema: list[dict[str, str]] = []
    chat: set[str] = set()
    for endpoint in source["endpoints"]:
        if endpoint.get("family") != "market":
            continue
        if endpoint["path"] != CREATE_TASK:
            if endpoint["path"] != "/api/v1/jobs/recordInfo":
                chat |= chat_names(endpoint)
            continue
        entry = market_entry(endpoint)
        if entry is None:
            without_schema.append(
                {"page": endpoint["page"], "summary": endpoint.get("summary", "")}
            )
            continue
        if entry["name"] in models:
            raise SystemExit(
                f"two pages serve {entry['name']}: {entry['page']}; fix PAGE_MODEL_IDS"
            )
        models[entry["name"]] = entry
    document = {
        "source": source.get("source", ""),
        "models": [models[name] for name in sorted(models)],
        "pages_without_schema": sorted(without_schema, key=lambda p: p["page"]),
        "chat_models": sorted(chat),
    }
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    output = Path(argv[2]) if len(argv) > 2 else OUTPUT
    text = generate(json.loads(path.read_text(encoding="utf-8")))
    output.write_text(text, encoding="utf-8")
    print(f"wrote {output} from {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
