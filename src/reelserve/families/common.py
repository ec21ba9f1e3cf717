"""What KIE's own generation families (Veo, 4o Image, Flux Kontext) share when they build a task.

Each family's `submit.py` validates its body in its own words, then builds a
`NewTask` whose params carry a plan (`spec`, the keys `tasks/specs.spec_json`
writes) and its `sources` (as `worker/inputs.py` reads them), so the worker's
generic producer (`worker/produce.py`) runs it like any market task.
"""

from __future__ import annotations

import secrets
from typing import Any

from reelserve.engines.base import Capability
from reelserve.errors import ValidationFailed
from reelserve.tasks.models import Status, Task
from reelserve.tasks.rules import DataUri, parse_image_source
from reelserve.tasks.service import TaskService

IMAGE_ACCEPT = ["image/jpeg", "image/png", "image/webp"]


def new_id(prefix: str) -> str:
    """`<prefix><32 hex>` (kie-families.md §3–§5 ids)."""
    return f"{prefix}{secrets.token_hex(16)}"


def plan(
    operation: Capability,
    *,
    prompt: str,
    ratio: str = "",
    resolution: str = "",
    width: int = 0,
    height: int = 0,
    duration_s: float = 0.0,
    count: int = 1,
    sound: bool = False,
    image_format: str = "png",
    seed: int | None = None,
    extras: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A stored plan (`params["spec"]`) with the same keys a market task's has."""
    return {
        "operation": operation.value,
        "kind": operation.kind.value,
        "ratio": ratio,
        "resolution": resolution,
        "width": width,
        "height": height,
        "scale": 0,
        "duration_s": duration_s,
        "count": count,
        "sound": sound,
        "image_format": image_format,
        "audio_format": "mp3",
        "prompt": prompt,
        "seed": seed,
        "parent_task_id": None,
        "parent_index": None,
        "return_last_frame": False,
        "extras": dict(extras or {}),
    }


def image_sources(
    field: str, values: list[str], service: TaskService
) -> list[tuple[str, int | None, str | DataUri]]:
    """Each image URL (or data: URI) of a field, checked now: (field, index, value)."""
    out: list[tuple[str, int | None, str | DataUri]] = []
    limit = service.settings.source_max_bytes
    for index, value in enumerate(values):
        name = f"{field}[{index}]"
        if not isinstance(value, str) or not value.strip():
            raise ValidationFailed(name, "must be an http(s) URL")
        parsed = parse_image_source(name, value.strip(), limit)
        service.check_source(name, parsed)
        out.append((field, index, parsed))
    return out


async def stored_sources(
    service: TaskService,
    task_id: str,
    images: list[tuple[str, int | None, str | DataUri, str]],
    inputs: dict[str, str],
) -> list[dict[str, Any]]:
    """The sources as the worker reads them; data: URIs become input blobs now.

    `images` holds (field, index in the field's list or None, value, role).
    """
    sources: list[dict[str, Any]] = []
    for number, (field, index, value, role) in enumerate(images):
        path = field if index is None else f"{field}.{index}"
        stored = await service.store_input(task_id, path, f"{role}-{number}", value, inputs)
        assert stored is not None
        sources.append(
            {
                "field": field,
                "index": index,
                "kind": "image",
                "role": role,
                "accept": IMAGE_ACCEPT,
                "max_bytes": 0,
                **stored,
            }
        )
    return sources


def check_choice(field: str, value: Any, allowed: tuple[Any, ...]) -> Any:
    if value not in allowed:
        shown = ", ".join(f'"{a}"' if isinstance(a, str) else str(a) for a in allowed)
        raise ValidationFailed(field, f"must be one of {shown}")
    return value


def string_list(field: str, value: Any) -> list[str]:
    """A list of strings; a bare string is read as a list of one (clients send both)."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationFailed(field, "must be an array of URLs")
    return [v for v in value if v.strip()]


def record_task_id(request_value: str | None) -> str:
    task_id = (request_value or "").strip()
    if not task_id:
        raise ValidationFailed("taskId", "is required")
    return task_id


def failed(task: Task) -> bool:
    return task.status in (Status.FAILED, Status.CANCELED)


def error_code(task: Task) -> int | None:
    if not failed(task):
        return None
    return int(task.fail_code or 500)
