"""task results as lists of artifacts

Rows written before this revision hold a video result only (`video_key`,
`cover_key`, shape). Each gains the `artifacts` list the new code reads (a
video and its cover), keeping the old fields, so Runway and Aleph answers stay
byte for byte what they were. Rows are rewritten in batches by primary key.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BATCH = 500


def _artifacts(result: dict[str, Any]) -> list[dict[str, Any]]:
    width, height = int(result.get("width") or 0), int(result.get("height") or 0)
    frames, fps = int(result.get("frames") or 0), int(result.get("fps") or 0)
    common = {"width": width, "height": height, "bytes": 0}
    return [
        {
            "kind": "video",
            "role": "video",
            "key": result["video_key"],
            "mime": "video/mp4",
            "duration": frames / fps if fps else 0.0,
            **common,
        },
        {
            "kind": "image",
            "role": "cover",
            "key": result["cover_key"],
            "mime": "image/png",
            "duration": 0.0,
            **common,
        },
    ]


def upgrade() -> None:
    bind = op.get_bind()
    tasks = sa.table("tasks", sa.column("seq", sa.Integer), sa.column("result", sa.JSON))
    last = 0
    while True:
        rows = bind.execute(
            sa.select(tasks.c.seq, tasks.c.result)
            .where(tasks.c.seq > last, tasks.c.result.is_not(None))
            .order_by(tasks.c.seq)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for seq, result in rows:
            last = seq
            if isinstance(result, str):
                result = json.loads(result)
            if not isinstance(result, dict) or "artifacts" in result or "video_key" not in result:
                continue
            result = {**result, "artifacts": _artifacts(result)}
            bind.execute(sa.update(tasks).where(tasks.c.seq == seq).values(result=result))


def downgrade() -> None:
    # The old code ignores the extra `artifacts` key; nothing to undo.
    pass
