"""tickets: since when the service-level clock stands still (waiting on the customer)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 10:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("paused_at", sa.DateTime(timezone=True)))
    op.execute("UPDATE tickets SET paused_at = CURRENT_TIMESTAMP WHERE status = 'pending_customer'")


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("paused_at")
