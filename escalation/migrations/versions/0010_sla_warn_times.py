"""tickets: from when each service-level target counts as due soon

Stored with the ticket (escalation/sla.py computes them with the due times), so the tickets
about to breach are found by a query. Tickets from before take their due time: they show
"due soon" no earlier than before this change.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 10:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("first_response_warn_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("resolution_warn_at", sa.DateTime(timezone=True)))
        batch.create_index("ix_tickets_first_response_warn_at", ["first_response_warn_at"])
        batch.create_index("ix_tickets_resolution_warn_at", ["resolution_warn_at"])
    op.execute(
        "UPDATE tickets SET first_response_warn_at = first_response_due_at,"
        " resolution_warn_at = resolution_due_at"
    )


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_resolution_warn_at")
        batch.drop_index("ix_tickets_first_response_warn_at")
        batch.drop_column("resolution_warn_at")
        batch.drop_column("first_response_warn_at")
