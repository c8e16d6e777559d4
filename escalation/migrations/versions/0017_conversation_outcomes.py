"""conversation_outcomes: each conversation's outcomes added up as they are recorded, filled
from the outcomes and tickets recorded so far

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 11:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

COUNTS = ("answered", "clarified", "declined", "helped", "not_helped", "came_back")


def upgrade() -> None:
    op.create_table(
        "conversation_outcomes",
        sa.Column("conversation_id", sa.String(200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(50), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_conversation_outcomes")),
    )
    op.create_index(
        "ix_conversation_outcomes_period",
        "conversation_outcomes",
        ["started_at", "language", "channel", "escalated", *COUNTS],
    )
    op.execute(
        """
        INSERT INTO conversation_outcomes
            (conversation_id, started_at, language, channel, answered, clarified, declined,
             helped, not_helped, came_back, escalated)
        SELECT conversation_id, min(occurred_at), min(language), min(channel),
               sum(CASE WHEN kind = 'answered' THEN 1 ELSE 0 END),
               sum(CASE WHEN kind = 'clarified' THEN 1 ELSE 0 END),
               sum(CASE WHEN kind = 'declined' THEN 1 ELSE 0 END),
               sum(CASE WHEN helped THEN 1 ELSE 0 END),
               sum(CASE WHEN NOT helped THEN 1 ELSE 0 END),
               sum(CASE WHEN came_back THEN 1 ELSE 0 END),
               false
        FROM turn_outcomes GROUP BY conversation_id
        """
    )
    op.execute(
        """
        INSERT INTO conversation_outcomes
            (conversation_id, started_at, language, channel, answered, clarified, declined,
             helped, not_helped, came_back, escalated)
        SELECT conversation_id, min(escalated_at), min(language), min(channel),
               0, 0, 0, 0, 0, 0, true
        FROM tickets
        WHERE conversation_id NOT IN (SELECT conversation_id FROM conversation_outcomes)
        GROUP BY conversation_id
        """
    )
    op.execute(
        "UPDATE conversation_outcomes SET escalated = true"
        " WHERE conversation_id IN (SELECT conversation_id FROM tickets)"
    )


def downgrade() -> None:
    op.drop_index("ix_conversation_outcomes_period", table_name="conversation_outcomes")
    op.drop_table("conversation_outcomes")
