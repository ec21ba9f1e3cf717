"""The start of a callback receiver's answer, kept with each delivery attempt (issue 17)

- `delivery_attempts.response`: the first 1024 bytes of the receiver's answer
  body ("" before this revision and when none came), shown by the console.

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


def downgrade() -> None:
    with op.batch_alter_table("delivery_attempts") as batch:
        batch.drop_column("response")
