"""credit balances and task costs

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("credits", sa.Integer, nullable=True))
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("cost", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("credits_charged", sa.Integer, nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("credits_refunded", sa.Boolean, nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("credits_refunded")
        batch.drop_column("credits_charged")
        batch.drop_column("cost")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("credits")
