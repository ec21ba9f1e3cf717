"""Cancel, delete and idempotent creates (issue 18)

- `tasks.cancel_requested_at`: a running task asked to stop; its worker ends it
  as canceled (a queued one is canceled at once and never gets this).
- `tasks.deleted_at`: a task deleted by its key (Runway's DELETE): hidden from
  every read by id, its media left to retention.
- `idempotency_keys`: the first task made for a key's `Idempotency-Key`, with a
  hash of the request, written in the transaction that inserts the task.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("cancel_requested_at", sa.Float, nullable=True))
        batch.add_column(sa.Column("deleted_at", sa.Float, nullable=True))
    op.create_table(
        "idempotency_keys",
        sa.Column("api_key_id", sa.String(32), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("task_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("deleted_at")
        batch.drop_column("cancel_requested_at")
