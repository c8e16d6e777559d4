"""order number and queue preview on tickets

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 16:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

#: escalation.models.PREVIEW_CHARS when this revision was written (a migration never
#: follows later changes of the models).
PREVIEW_CHARS = 200


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("order_number", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("preview", sa.String(length=PREVIEW_CHARS), nullable=True))
    # Existing tickets get the customer's latest line as their preview.
    latest = sa.text(
        "UPDATE tickets SET preview = substr(("
        " SELECT m.text FROM transcript_messages m"
        " WHERE m.ticket_id = tickets.id AND m.author = 'customer'"
        " ORDER BY m.sent_at DESC, m.id DESC LIMIT 1), 1, :chars)"
    )
    op.execute(latest.bindparams(chars=PREVIEW_CHARS))


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("preview")
        batch.drop_column("order_number")
