"""Derive `src/reelserve/families/suno/endpoints.json` from KIE's docs (`kie-openapi.json`).

    .venv/bin/python scripts/gen_suno_schemas.py [path-to-kie-openapi.json]

For every `suno-api` endpoint with a JSON request body it writes the path, the
docs page and the cleaned request schema (validation keywords only, as
`gen_catalogue.clean` keeps them; the examples are dropped). Deterministic
(sorted keys, fixed indentation): a test regenerates it and compares bytes.
`generate-persona` has no machine-readable schema in the docs; its fields are
hand-kept in `families/suno/schemas.py`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from gen_catalogue import clean  # noqa: E402

DEFAULT_SOURCE = ROOT.parent / "shared" / "spec" / "kie-openapi.json"
OUTPUT = ROOT / "src" / "reelserve" / "families" / "suno" / "endpoints.json"


def build(source: Path) -> dict[str, Any]:
    data = json.loads(source.read_text())
    out: dict[str, Any] = {}
    for endpoint in data["endpoints"]:
        if endpoint.get("family") != "suno-api" or endpoint.get("method") != "POST":
            continue
        request = endpoint.get("request")
        if not isinstance(request, dict):
            continue
        out[endpoint["path"]] = {"page": endpoint.get("page", ""), "schema": clean(request)}
    return out


def render(source: Path) -> str:
    return json.dumps(build(source), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SOURCE
    OUTPUT.write_text(render(source))
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({len(build(source))} endpoints)")


if __name__ == "__main__":
    main()
