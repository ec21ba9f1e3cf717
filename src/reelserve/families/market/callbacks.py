"""The market family's callback body: the recordInfo fields + `creditsConsumed` (kie-api.md §4)."""

from __future__ import annotations

from typing import Any

from reelserve.blobs.links import MediaLinks
from reelserve.families.market.views import market_record
from reelserve.tasks.models import Status, Task
from reelserve.tasks.views import fail_msg


def market_payload(task: Task, links: MediaLinks) -> dict[str, Any]:
    """Spec §4 Market: code 200 or 501, `data` = the recordInfo fields + `creditsConsumed`
    (the task's price when it succeeded; a failed task was refunded, so 0)."""
    succeeded = task.status is Status.SUCCEEDED and task.result is not None
    data = market_record(task, links)
    data.pop("progress", None)
    data["creditsConsumed"] = task.cost if succeeded else 0
    return {
        "code": 200 if succeeded else 501,
        "msg": "success" if succeeded else fail_msg(task),
        "data": data,
    }
