"""per-key limits and fair scheduling

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        for name, default in (("rate_limit", "20"), ("max_concurrent", "0"), ("max_queued", "0")):
            batch.add_column(sa.Column(name, sa.Integer, nullable=False, server_default=default))
        batch.add_column(sa.Column("last_claimed_at", sa.Float, nullable=True))
    # Rate limits count a key's recent tasks; this index also serves "tasks of a key".
    op.drop_index("ix_tasks_api_key_id", "tasks")
    op.create_index("ix_tasks_key_created", "tasks", ["api_key_id", "created_at"])
    op.create_index("ix_tasks_key_status", "tasks", ["api_key_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_tasks_key_status", "tasks")
    op.drop_index("ix_tasks_key_created", "tasks")
    op.create_index("ix_tasks_api_key_id", "tasks", ["api_key_id"])
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("last_claimed_at")
        batch.drop_column("max_queued")
        batch.drop_column("max_concurrent")
        batch.drop_column("rate_limit")
