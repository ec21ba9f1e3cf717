"""The baseline: bare FastAPI JSON endpoints, served by the same uvicorn as reelserve."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/bare")
async def bare_post(request: Request) -> dict[str, Any]:
    body = await request.json()
    return {"code": 200, "msg": "success", "data": {"echo": len(body)}}


@app.get("/bare")
async def bare_get() -> dict[str, Any]:
    return {"code": 200, "msg": "success", "data": {"taskId": "x", "state": "success"}}
