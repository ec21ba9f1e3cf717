"""Upstream hand-offs: which upstream task serves a reelserve task (docs/upstream.md)

One row per task and upstream engine, written before the upstream is asked
(`submitting`) and again with the upstream's task id as soon as it answers
(`accepted`), each under the task's lease; a restarted worker follows the
recorded upstream task instead of submitting again.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handoffs",
        sa.Column("task_id", sa.String(64), primary_key=True),
        sa.Column("engine", sa.String(64), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("upstream_id", sa.String(128), nullable=True),
        sa.Column("submissions", sa.Integer, nullable=False, server_default="0"),
        sa.Column("detail", sa.JSON, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("handoffs")
