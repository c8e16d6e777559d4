"""agents: languages, team, available (online/away); tickets: team

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 08:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("languages", sa.JSON(), server_default="[]", nullable=False))
        batch.add_column(sa.Column("team", sa.String(50)))
        batch.add_column(
            sa.Column("available", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("team", sa.String(50)))
        batch.create_index("ix_tickets_team", ["team"])


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_team")
        batch.drop_column("team")
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("available")
        batch.drop_column("team")
        batch.drop_column("languages")
