"""stream tickets: the console's event stream without the bearer token in its URL

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 04:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stream_tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_hash", sa.String(length=64), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["agent_tokens.id"],
            name=op.f("fk_stream_tickets_token_id_agent_tokens"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stream_tickets")),
        sa.UniqueConstraint("ticket_hash", name=op.f("uq_stream_tickets_ticket_hash")),
    )
    with op.batch_alter_table("stream_tickets") as batch:
        batch.create_index(batch.f("ix_stream_tickets_token_id"), ["token_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("stream_tickets") as batch:
        batch.drop_index(batch.f("ix_stream_tickets_token_id"))
    op.drop_table("stream_tickets")
