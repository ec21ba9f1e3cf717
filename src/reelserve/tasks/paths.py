"""Dotted paths into a request (`input.image_urls.0`): where a stored input's URL goes."""

from __future__ import annotations

from typing import Any


def set_path(root: dict[str, Any], path: str, value: Any) -> None:
    """`root` with the value at dotted `path` replaced (missing dicts are made)."""
    *parents, last = path.split(".")
    node: Any = root
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
