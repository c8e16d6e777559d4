"""turn_outcomes: the vector of a question the FAQ did not settle, for gap mining

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 11:05:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("turn_outcomes") as batch:
        batch.add_column(sa.Column("vector", sa.LargeBinary()))
        batch.add_column(sa.Column("vector_model", sa.String(200)))
        batch.add_column(sa.Column("same_question_bar", sa.Float()))


def downgrade() -> None:
    with op.batch_alter_table("turn_outcomes") as batch:
        batch.drop_column("same_question_bar")
        batch.drop_column("vector_model")
        batch.drop_column("vector")
