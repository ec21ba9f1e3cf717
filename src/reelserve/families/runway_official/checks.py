"""A `/v1` body read field by field into values, every problem kept as a zod-style issue.

Runway answers a bad body with all its issues at once (`errors.BodyInvalid`);
`Checker` collects them and `done()` raises. Messages follow zod's wording,
which Runway's answers use ("Invalid option: expected one of ...").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from reelserve.families.runway_official.errors import BodyInvalid, issue

T = TypeVar("T")
SEED_MAX = 4_294_967_295
URI_MAX = 2048
URI_SCHEMES = ("https://", "http://", "data:", "runway://")


def _kind(value: Any) -> str:
    if value is None:
        return "undefined"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _options(allowed: tuple[Any, ...]) -> str:
    return "|".join(f'"{a}"' if isinstance(a, str) else str(a) for a in allowed)


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class Checker:
    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.issues: list[dict[str, Any]] = []

    def fail(self, path: str, message: str, code: str = "custom", **extra: Any) -> None:
        self.issues.append(issue(path, message, code, **extra))

    def _missing(self, path: str, expected: str, value: Any) -> None:
        self.fail(
            path, f"Invalid input: expected {expected}, received {_kind(value)}", "invalid_type"
        )

    def model(self, table: Mapping[str, T] | tuple[str, ...]) -> T | str | None:
        """The body's `model`, looked up in `table` (a dict's value, or the name)."""
        name = self.body.get("model")
        names = tuple(table)
        if not isinstance(name, str) or name not in names:
            self.fail(
                "model",
                f"Invalid option: expected one of {_options(names)}",
                "invalid_union",
                note="No matching discriminator",
                discriminator="model",
            )
            return None
        return table[name] if isinstance(table, Mapping) else name

    def text(self, path: str, *, required: bool, max_len: int = 0) -> str | None:
        value = self.body.get(path)
        if value is None:
            if required:
                self._missing(path, "string", value)
            return None
        if not isinstance(value, str):
            self._missing(path, "string", value)
            return None
        if not value.strip():
            self.fail(path, "Too small: expected string to have >=1 characters", "too_small")
            return None
        if max_len and utf16_length(value) > max_len:
            self.fail(
                path,
                f"Too big: expected string to have <={max_len} characters",
                "too_big",
                maximum=max_len,
            )
            return None
        return value

    def choice(
        self, path: str, allowed: tuple[T, ...], *, default: T | None = None, value: Any = None
    ) -> T | None:
        """One of `allowed`; absent: `default` (None with no default is an issue)."""
        if value is None:
            value = self.body.get(path)
        if value is None:
            if default is None:
                self.fail(
                    path,
                    f"Invalid option: expected one of {_options(allowed)}",
                    "invalid_value",
                    values=list(allowed),
                )
            return default
        if isinstance(value, bool) or value not in allowed:
            self.fail(
                path,
                f"Invalid option: expected one of {_options(allowed)}",
                "invalid_value",
                values=list(allowed),
            )
            return None
        chosen: T = value
        return chosen

    def number(self, path: str, low: float, high: float, *, integer: bool = False) -> float | None:
        value = self.body.get(path)
        if value is None:
            return None
        expected = "int" if integer else "number"
        if isinstance(value, bool) or not isinstance(value, int | float):
            self._missing(path, expected, value)
            return None
        if integer and not float(value).is_integer():
            self._missing(path, "int", value)
            return None
        if value < low:
            self.fail(path, f"Too small: expected number to be >={low:g}", "too_small")
            return None
        if value > high:
            self.fail(path, f"Too big: expected number to be <={high:g}", "too_big")
            return None
        return float(value)

    def boolean(self, path: str, default: bool) -> bool:
        value = self.body.get(path)
        if value is None:
            return default
        if not isinstance(value, bool):
            self._missing(path, "boolean", value)
            return default
        return value

    def seed(self) -> int | None:
        value = self.number("seed", 0, SEED_MAX, integer=True)
        return None if value is None else int(value)

    def uri(self, path: str, value: Any) -> str | None:
        """An asset URI: https/http URL, data: URI or a `runway://` upload (checked later)."""
        if not isinstance(value, str) or not value.strip():
            self._missing(path, "string", value)
            return None
        value = value.strip()
        if not value.startswith(URI_SCHEMES):
            self.fail(
                path, "Invalid URI: expected an HTTPS URL, a data: URI or a runway:// upload URI"
            )
            return None
        if not value.startswith("data:") and len(value) > URI_MAX:
            self.fail(path, f"Too big: expected string to have <={URI_MAX} characters", "too_big")
            return None
        uri: str = value
        return uri

    def objects(self, path: str, *, max_items: int) -> list[dict[str, Any]]:
        value = self.body.get(path)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self._missing(path, "array", value)
            return []
        if len(value) > max_items:
            self.fail(path, f"Too big: expected array to have <={max_items} items", "too_big")
            return []
        return value

    def done(self) -> None:
        if self.issues:
            raise BodyInvalid(self.issues)
