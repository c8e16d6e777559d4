"""faq_entries and faq_entry_revisions: the FAQ written in the console, with its history;
agents.role may be editor

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 11:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

STATUS = sa.Enum(
    "draft", "published", "unpublished", name="faqentrystatus", native_enum=False, length=32
)


def upgrade() -> None:
    op.create_table(
        "faq_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.String(100), nullable=False),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("variants", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("source_ticket_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["agents.id"], name=op.f("fk_faq_entries_created_by_id_agents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_entries")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_faq_entries_entry_id")),
    )
    op.create_index("ix_faq_entries_status", "faq_entries", ["status"])
    op.create_index("ix_faq_entries_updated_at", "faq_entries", ["updated_at"])
    op.create_table(
        "faq_entry_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("faq_entry_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("variants", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_faq_entry_revisions_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["faq_entry_id"],
            ["faq_entries.id"],
            name=op.f("fk_faq_entry_revisions_faq_entry_id_faq_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_entry_revisions")),
    )
    op.create_index("ix_faq_entry_revisions_faq_entry_id", "faq_entry_revisions", ["faq_entry_id"])


def downgrade() -> None:
    op.drop_index("ix_faq_entry_revisions_faq_entry_id", table_name="faq_entry_revisions")
    op.drop_table("faq_entry_revisions")
    op.drop_index("ix_faq_entries_updated_at", table_name="faq_entries")
    op.drop_index("ix_faq_entries_status", table_name="faq_entries")
    op.drop_table("faq_entries")
