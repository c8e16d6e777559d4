"""turn_outcomes: every FAQ decision as it happens, for analytics and knowledge gaps;
tickets: an index on escalated_at (analytics read a period)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 10:55:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "turn_outcomes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("turn_key", sa.String(300), nullable=False),
        sa.Column("conversation_id", sa.String(200), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(50), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "answered",
                "clarified",
                "declined",
                name="outcomekind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("entry_id", sa.String(200), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("question", sa.Text(), nullable=True),
        sa.Column("helped", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_turn_outcomes")),
        sa.UniqueConstraint("turn_key", name=op.f("uq_turn_outcomes_turn_key")),
    )
    op.create_index("ix_turn_outcomes_conversation_id", "turn_outcomes", ["conversation_id"])
    op.create_index("ix_turn_outcomes_occurred_at", "turn_outcomes", ["occurred_at"])
    op.create_index("ix_turn_outcomes_entry_id", "turn_outcomes", ["entry_id"])
    op.create_index("ix_tickets_escalated_at", "tickets", ["escalated_at"])  # analytics by period


def downgrade() -> None:
    op.drop_index("ix_tickets_escalated_at", table_name="tickets")
    op.drop_index("ix_turn_outcomes_entry_id", table_name="turn_outcomes")
    op.drop_index("ix_turn_outcomes_occurred_at", table_name="turn_outcomes")
    op.drop_index("ix_turn_outcomes_conversation_id", table_name="turn_outcomes")
    op.drop_table("turn_outcomes")
