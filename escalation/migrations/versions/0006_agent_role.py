"""agents: role (agent or admin)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 04:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(
            sa.Column(
                "role",
                sa.Enum("agent", "admin", name="role", native_enum=False, length=32),
                server_default="agent",
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("role")
