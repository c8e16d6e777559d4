"""tickets: when the customer was told the first answer is late

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 08:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("delay_notice_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("delay_notice_at")
