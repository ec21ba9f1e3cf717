"""The served market models: KIE's documented ones, the hand-kept extras and `synthetic/*`.

Sources, merged once on first use (`_catalogue`):
- `market_models.json` — generated from KIE's docs by `scripts/gen_catalogue.py`;
- `extra_schemas.PAGE_SCHEMAS` — doc pages whose schema the docs file lacks;
- `extra_schemas.UNDOCUMENTED` — models clients use that the docs lack (spec §2),
  each a documented sibling's schema with a patch, `documented=False`;
- `synthetic.SYNTHETIC` — reelserve's own test models (kie-api.md §2).

**Decision — a field with a default is never required** (spec §2, lenient):
the docs mark some defaulted fields required (`upload_method` default `s3` on
Sora, `aspect_ratio` default `1:1` on z-image...); clients omit them and get
the default. `Model.schema` is the schema as served: such fields are not in its
`required` list.

Names: `resolve` strips the name and follows `extras.ALIASES`; a chat model's
name (the docs' chat pages, `claude-*`, `chat/*`) and an unknown name are 422
on `model` (spec §1, §2).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from reelserve.catalogue import extras
from reelserve.catalogue.extra_schemas import PAGE_SCHEMAS, UNDOCUMENTED
from reelserve.catalogue.synthetic import SYNTHETIC, synthetic_example, synthetic_schema
from reelserve.engines.base import Capability, Kind
from reelserve.errors import ValidationFailed

DATA_FILE = "market_models.json"


@dataclass(frozen=True, eq=False)
class Model:
    """A served model. `schema` is the input JSON schema; `example` a valid input for tests.

    One instance per name (`resolve` returns it), so models compare and hash by
    identity and can key a dict although they hold dicts.
    """

    name: str
    operation: Capability
    kind: Kind
    vendor: str
    schema: dict[str, Any] = field(repr=False)
    documented: bool
    page: str
    description: str
    example: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class _Catalogue:
    models: tuple[Model, ...]
    by_name: dict[str, Model]
    aliases: dict[str, str]
    chat: frozenset[str]
    pages_without_schema: tuple[str, ...]


def models() -> list[Model]:
    """Every served model, sorted by name (`synthetic/*` included)."""
    return list(_catalogue().models)


def aliases() -> dict[str, str]:
    """Accepted alias → the documented name it stands for."""
    return dict(_catalogue().aliases)


def chat_models() -> frozenset[str]:
    """The chat models' names from the docs (each answers 422; `is_chat` adds the prefixes)."""
    return _catalogue().chat


def is_chat(name: str) -> bool:
    return name in _catalogue().chat or name.startswith(extras.CHAT_PREFIXES)


def resolve(name: str) -> Model:
    """The model `name` stands for (stripped, aliases followed), else a 422 on `model`."""
    if not isinstance(name, str) or not name.strip():
        raise ValidationFailed("model", "is required")
    key = name.strip()
    catalogue = _catalogue()
    model = catalogue.by_name.get(catalogue.aliases.get(key, key))
    if model is not None:
        return model
    if is_chat(key):
        raise ValidationFailed("model", f"{key}: chat models are not served by this server")
    # kie-api.md §2: the answer lists the available models (their schemas: /jobs/models).
    available = ", ".join(sorted(catalogue.by_name))
    raise ValidationFailed(
        "model",
        f"unknown model '{key}'; available: {available} "
        "(GET /api/v1/jobs/models gives their input schemas)",
    )


def load_data() -> dict[str, Any]:
    """The generated docs data (`market_models.json`), parsed."""
    text = resources.files("reelserve.catalogue").joinpath(DATA_FILE).read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def served_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with defaulted fields dropped from `required` (see the module docstring)."""
    out = copy.deepcopy(schema)
    properties = out.setdefault("properties", {})
    out["required"] = sorted(
        f for f in out.get("required") or () if f in properties and "default" not in properties[f]
    )
    out.setdefault("type", "object")
    return out


def patched(schema: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """A sibling's schema with an `UNDOCUMENTED` patch applied."""
    out = copy.deepcopy(schema)
    for name in patch.get("drop", ()):
        out["properties"].pop(name, None)
    out["properties"].update(copy.deepcopy(patch.get("properties", {})))
    if "required" in patch:
        out["required"] = list(patch["required"])
    return out


def _entries(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every served model as a raw entry: docs, pages without schema, undocumented extras."""
    entries = list(data["models"])
    for page in data["pages_without_schema"]:
        hand = PAGE_SCHEMAS.get(page["page"])
        if hand is None:
            continue
        entries.append(
            {
                "name": hand["name"],
                "page": page["page"],
                "vendor": extras.vendor_of(hand["name"]),
                "description": page["summary"],
                "documented": hand["documented"],
                "input": hand["schema"],
                "examples": hand["examples"],
            }
        )
    by_name = {e["name"]: e for e in entries}
    for name, extra in UNDOCUMENTED.items():
        sibling = by_name[extra["sibling"]]
        entries.append(
            {
                "name": name,
                "page": sibling["page"],
                "vendor": extras.vendor_of(name),
                "description": extra.get("description")
                or f"{sibling['description']} (served as {sibling['name']}; not in KIE's docs)",
                "documented": False,
                "input": patched(sibling["input"], extra.get("patch", {})),
                "examples": extra.get("examples", sibling["examples"]),
            }
        )
    return entries


def _model(entry: dict[str, Any]) -> Model:
    from reelserve.catalogue.examples import build_example  # needs validate, which needs Model

    name = entry["name"]
    operation = extras.operation_by_name(name)
    if operation is None:
        raise RuntimeError(f"catalogue: no operation for {name}; add it to extras.OPERATIONS")
    schema = served_schema(entry["input"])
    return Model(
        name=name,
        operation=operation,
        kind=operation.kind,
        vendor=entry["vendor"],
        schema=schema,
        documented=entry["documented"],
        page=entry["page"],
        description=entry["description"],
        example=build_example(name, schema, entry["examples"]),
    )


def _synthetic(name: str) -> Model:
    operation: Capability = SYNTHETIC[name]["operation"]
    return Model(
        name=name,
        operation=operation,
        kind=operation.kind,
        vendor="synthetic",
        schema=synthetic_schema(name),
        documented=False,
        page="",
        description=SYNTHETIC[name]["description"],
        example=synthetic_example(name),
    )


@cache
def _catalogue() -> _Catalogue:
    data = load_data()
    served = [_model(e) for e in _entries(data)] + [_synthetic(n) for n in SYNTHETIC]
    by_name: dict[str, Model] = {}
    for model in served:
        if model.name in by_name:
            raise RuntimeError(f"catalogue: {model.name} is defined twice")
        by_name[model.name] = model
    for alias, target in extras.ALIASES.items():
        if target not in by_name or alias in by_name:
            raise RuntimeError(f"catalogue: alias {alias} -> {target} is broken")
    return _Catalogue(
        models=tuple(sorted(served, key=lambda m: m.name)),
        by_name=by_name,
        aliases=dict(extras.ALIASES),
        chat=frozenset(data["chat_models"]),
        pages_without_schema=tuple(p["page"] for p in data["pages_without_schema"]),
    )
