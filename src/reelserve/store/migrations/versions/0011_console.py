"""What the operator console shows beyond the task row (issue 17)

- `delivery_attempts.response`: the first 1024 bytes of the receiver's answer
  body ("" before this revision and when none came).
- `task_attempts`: each attempt at a task as its worker ended it (engine,
  worker, start and end, outcome, error).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("delivery_attempts") as batch:
        batch.add_column(sa.Column("response", sa.Text, nullable=False, server_default=""))
    op.create_table(
        "task_attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("task_id", sa.String(64), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("engine", sa.String(64), nullable=False),
        sa.Column("worker_id", sa.String(128), nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("ended_at", sa.Float, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("error", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_task_attempts_task_id", "task_attempts", ["task_id"])


def downgrade() -> None:
    op.drop_index("ix_task_attempts_task_id", "task_attempts")
    op.drop_table("task_attempts")
    with op.batch_alter_table("delivery_attempts") as batch:
        batch.drop_column("response")
