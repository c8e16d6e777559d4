"""tickets: first response and resolution due times (escalation/sla.py)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 08:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("first_response_due_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("resolution_due_at", sa.DateTime(timezone=True)))
        batch.create_index("ix_tickets_first_response_due_at", ["first_response_due_at"])
        batch.create_index("ix_tickets_resolution_due_at", ["resolution_due_at"])


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_resolution_due_at")
        batch.drop_index("ix_tickets_first_response_due_at")
        batch.drop_column("resolution_due_at")
        batch.drop_column("first_response_due_at")
