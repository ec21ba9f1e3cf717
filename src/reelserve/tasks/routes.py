"""Routes: which engine serves a task, by model name or operation (`REELSERVE_ROUTES`).

An ordered table of `pattern=engine[,fallback...]` entries separated by `;`,
e.g. `kling-*=upstream:kie;text_to_image=z-image;*=synthetic`. Patterns are
globs (`fnmatch`, case-sensitive) over the task's model name (market models)
and its operation; the first entry that matches wins. The engines after the
first are fallbacks, recorded on the task for the worker to try when the
engine before fails with a non-input error.

`REELSERVE_ENGINES` is the older shorthand: `synthetic` (every operation) or
`text_to_video=ltx-video,...`; each of its entries becomes an operation route
after the `REELSERVE_ROUTES` entries. With neither set, everything goes to
`synthetic`. An operation no entry matches is not served (505).

>>> table = parse_routes("kling-*=upstream:kie,synthetic;*=synthetic")
>>> pick(table, "kling-3.0/video", "text_to_video")
('upstream:kie', 'synthetic')
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase

OPERATION_ALIASES = {"extend_video": "extend"}
"""Route patterns may name an operation by the glossary's word."""


@dataclass(frozen=True)
class Route:
    pattern: str
    engines: tuple[str, ...]

    def matches(self, names: Iterable[str]) -> bool:
        pattern = OPERATION_ALIASES.get(self.pattern, self.pattern)
        return any(fnmatchcase(name, pattern) for name in names)

    def text(self) -> str:
        return f"{self.pattern}={','.join(self.engines)}"


def parse_routes(value: str) -> tuple[Route, ...]:
    """`pattern=engine[,fallback...];...` -> routes; a malformed entry is a ValueError naming it."""
    routes: list[Route] = []
    for raw in value.replace("\n", ";").split(";"):
        entry = raw.strip()
        if not entry:
            continue
        pattern, sep, names = entry.partition("=")
        engines = tuple(n.strip() for n in names.split(",") if n.strip())
        if not sep or not pattern.strip() or not engines:
            raise ValueError(
                f"route {entry!r} must read pattern=engine[,fallback...] "
                "(e.g. kling-*=upstream:kie,synthetic)"
            )
        routes.append(Route(pattern.strip(), engines))
    return tuple(routes)


def pick(routes: Iterable[Route], model: str | None, operation: str) -> tuple[str, ...]:
    """The engines (first, then fallbacks) for a task; () when no route matches."""
    names = [operation] if not model else [model, operation]
    for route in routes:
        if route.matches(names):
            return route.engines
    return ()


def engine_names(routes: Iterable[Route]) -> set[str]:
    """Every engine a route names: what a worker must be able to load at start-up."""
    return {name for route in routes for name in route.engines}
