"""tickets: the customer's e-mail address; emails: the outbox of e-mails to customers

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 10:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("customer_email", sa.String(254)))
    op.create_table(
        "emails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("update", "transcript", name="emailkind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.Column("to_address", sa.String(254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_try_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_emails_delivery_id_deliveries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_emails_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emails")),
        sa.UniqueConstraint("delivery_id", name=op.f("uq_emails_delivery_id")),
    )
    op.create_index("ix_emails_ticket_id", "emails", ["ticket_id"])
    op.create_index("ix_emails_sent_at", "emails", ["sent_at"])


def downgrade() -> None:
    op.drop_index("ix_emails_sent_at", table_name="emails")
    op.drop_index("ix_emails_ticket_id", table_name="emails")
    op.drop_table("emails")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("customer_email")
