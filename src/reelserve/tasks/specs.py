"""A market task's plan (`catalogue.TaskSpec`) as the task row stores it, and back.

The family plans the task at submit (what it makes, the size rule, duration,
count, sound, formats); the row keeps that plan as JSON in `params["spec"]`
so the worker, another process or a later version reads the same decision.
Sources are kept apart (`params["sources"]`), each as the worker reads it:
`{"url"}` or, for a data: URI stored at submit, `{"blob", "mime"}`.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from reelserve.catalogue import Source, TaskSpec, output_size
from reelserve.engines.base import Capability, Kind

_SPEC_FIELDS = tuple(f.name for f in fields(TaskSpec) if f.name != "sources")


def spec_json(spec: TaskSpec) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _SPEC_FIELDS:
        value = getattr(spec, name)
        out[name] = value.value if isinstance(value, Capability | Kind) else value
    return out


def spec_of(params: dict[str, Any]) -> dict[str, Any]:
    spec = params.get("spec")
    if not isinstance(spec, dict):
        raise ValueError("the task has no stored plan (params.spec)")
    return spec


def task_spec(spec: dict[str, Any]) -> TaskSpec:
    """The stored plan as a `TaskSpec` (without its sources, which the worker reads apart)."""
    values: dict[str, Any] = {name: spec.get(name) for name in _SPEC_FIELDS if name in spec}
    values["operation"] = Capability(spec["operation"])
    values["kind"] = Kind(spec["kind"])
    values["extras"] = dict(spec.get("extras") or {})
    return TaskSpec(sources=(), **values)


def output_size_of(spec: dict[str, Any], source_size: tuple[int, int] | None) -> tuple[int, int]:
    return output_size(task_spec(spec), source_size)


def source_json(source: Source, stored: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """One source as the worker reads it: where (`stored`), what, and the model's limits for it."""
    prop = (schema.get("properties") or {}).get(source.field) or {}
    accept = prop.get("x-accept") or (prop.get("items") or {}).get("x-accept") or []
    max_mb = prop.get("x-max-mb") or (prop.get("items") or {}).get("x-max-mb")
    return {
        "field": source.field,
        "index": source.index,
        "kind": source.kind,
        "role": source.role,
        "accept": list(accept) if isinstance(accept, list | tuple) else [str(accept)],
        "max_bytes": int(float(max_mb) * 2**20) if max_mb else 0,
        **stored,
    }
