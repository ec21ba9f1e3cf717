"""`POST /api/v1/upstream/callback/{taskId}?sig=...`: an upstream saying its task moved on.

The path is signed per task (`upstream/inputs.callback_signature`), so only the
upstream this server gave it to can nudge the task; the body is not trusted
(the follower reads the upstream's record itself, through its own key). A nudge
wakes the task's follower in this process; one running in another worker
process finds the change at its next poll.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from reelserve.errors import NotFound
from reelserve.upstream.inputs import CALLBACK_PATH, callback_signature

router = APIRouter(tags=["upstream"], include_in_schema=False)


@router.post(CALLBACK_PATH + "{task_id}")
async def upstream_callback(task_id: str, request: Request) -> JSONResponse:
    settings = request.app.state.settings
    expected = callback_signature(settings.resolved_signing_secret(), task_id)
    if not hmac.compare_digest(expected, request.query_params.get("sig") or ""):
        raise NotFound("Not found")
    worker = request.app.state.worker
    woken = bool(worker is not None and worker.nudges.nudge(task_id))
    return JSONResponse({"code": 200, "msg": "success", "data": {"woken": woken}})
