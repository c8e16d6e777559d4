"""tickets: how long the first response and the resolution took (wall-clock and business
seconds), written when they happen; the wall-clock ones filled in for earlier tickets.
turn_outcomes: the covering index now serves the per-entry figures (the conversation
figures read conversation_outcomes)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 11:40:00.000000
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

COLUMNS = (
    "first_response_seconds",
    "first_response_business_seconds",
    "resolution_seconds",
    "resolution_business_seconds",
)


PERIOD_INDEX = "ix_turn_outcomes_period"
BEFORE = ["occurred_at", "conversation_id", "kind", "helped", "came_back", "language", "channel"]
AFTER = ["occurred_at", "kind", "entry_id", "helped", "language", "channel"]


def upgrade() -> None:
    op.drop_index(PERIOD_INDEX, table_name="turn_outcomes")
    op.create_index(PERIOD_INDEX, "turn_outcomes", AFTER)
    with op.batch_alter_table("tickets") as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sa.Float()))
    tickets = sa.table(
        "tickets",
        sa.column("id", sa.Integer()),
        sa.column("escalated_at", sa.DateTime(timezone=True)),
        sa.column("first_agent_response_at", sa.DateTime(timezone=True)),
        sa.column("resolved_at", sa.DateTime(timezone=True)),
        sa.column("first_response_seconds", sa.Float()),
        sa.column("resolution_seconds", sa.Float()),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            tickets.c.id,
            tickets.c.escalated_at,
            tickets.c.first_agent_response_at,
            tickets.c.resolved_at,
        )
    ).all()
    for ticket_id, escalated, first, resolved in rows:  # business time needs the calendar: left
        connection.execute(
            tickets.update()
            .where(tickets.c.id == ticket_id)
            .values(
                first_response_seconds=_seconds(escalated, first),
                resolution_seconds=_seconds(escalated, resolved),
            )
        )


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds()


def downgrade() -> None:
    op.drop_index(PERIOD_INDEX, table_name="turn_outcomes")
    op.create_index(PERIOD_INDEX, "turn_outcomes", BEFORE)
    with op.batch_alter_table("tickets") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
