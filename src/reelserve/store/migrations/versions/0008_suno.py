"""Suno: staged callbacks, personas, children of a task

- `deliveries.stage`: which of a task's callbacks a delivery is (`text`,
  `first`, `complete` for Suno's songs; "" for a task's one callback), so the
  history shows it and a redelivery sends the stage asked for.
- `personas`: a voice and style kept from a track (`generate-persona`), one per track.
- an index on `tasks.parent_id`: a music task's WAV, stems, video and cover
  tasks are found by it (one cover per song, one WAV per track).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("stage", sa.String(16), nullable=False, server_default=""))
    op.create_index("ix_tasks_parent_id", "tasks", ["parent_id"])
    op.create_table(
        "personas",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("api_key_id", sa.String(32), nullable=False),
        sa.Column("task_id", sa.String(64), nullable=False),
        sa.Column("audio_id", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("personas")
    op.drop_index("ix_tasks_parent_id", "tasks")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("stage")
