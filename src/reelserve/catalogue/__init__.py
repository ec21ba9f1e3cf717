"""KIE's market by its real model names (spec `kie-families.md` §2): the catalogue.

    model = resolve(name)                # aliases, 422 for chat and unknown names
    values = validate(model, input)      # 422 naming input.<field>; normalized values
    spec = plan(model, values)           # what to make: operation, size, length, sources
    size = output_size(spec, source_size)

Where things live: `models.py` (the served models and names), `validate.py`
(generic schema validation, the leniency Decisions), `plan.py` (TaskSpec and
its Decisions), `geometry.py` (sizes), `fields.py` (which fields are media),
`extras.py` / `extra_schemas.py` (hand-kept data), `market_models.json`
(generated from KIE's docs by `scripts/gen_catalogue.py`; never edit by hand).
"""

from reelserve.catalogue.geometry import market_size
from reelserve.catalogue.models import (
    Model,
    aliases,
    chat_models,
    is_chat,
    models,
    resolve,
)
from reelserve.catalogue.plan import Source, TaskSpec, output_size, plan, primary_source
from reelserve.catalogue.validate import DEFAULT_SOURCE_MAX_BYTES, validate

__all__ = [
    "DEFAULT_SOURCE_MAX_BYTES",
    "Model",
    "Source",
    "TaskSpec",
    "aliases",
    "chat_models",
    "is_chat",
    "market_size",
    "models",
    "output_size",
    "plan",
    "primary_source",
    "resolve",
    "validate",
]
