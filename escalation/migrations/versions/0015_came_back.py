"""turn_outcomes: whether an answer was asked about again within 24 hours; an index that
covers what a period's figures read

Set when the later question is recorded, so that verified deflection is counted by the
database (a GROUP BY over the period), not re-derived row by row.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 11:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("turn_outcomes") as batch:
        batch.add_column(
            sa.Column("came_back", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    # What a period's figures read, in one index: the database answers from it alone.
    op.create_index(
        "ix_turn_outcomes_period",
        "turn_outcomes",
        ["occurred_at", "conversation_id", "kind", "helped", "came_back", "language", "channel"],
    )


def downgrade() -> None:
    op.drop_index("ix_turn_outcomes_period", table_name="turn_outcomes")
    with op.batch_alter_table("turn_outcomes") as batch:
        batch.drop_column("came_back")
