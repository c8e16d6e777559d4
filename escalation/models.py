"""Tickets and their transcripts (SQLAlchemy 2.0 typed models).

A ticket is created once per escalation (unique ``escalation_key``) and carries everything an
agent needs: who, where, which language, why, what the bot tried, and every turn said.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Enum, ForeignKey, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

#: Stable constraint names, so Alembic migrations can name what they alter.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utc_now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TicketStatus(enum.StrEnum):
    WAITING_FOR_AGENT = "waiting_for_agent"
    OPEN = "open"
    PENDING_CUSTOMER = "pending_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Priority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Author(enum.StrEnum):
    CUSTOMER = "customer"
    BOT = "bot"
    AGENT = "agent"
    NOTE = "note"  # internal: never sent to the customer


def _enum(cls: type[enum.StrEnum]) -> Enum:
    # Stored as plain strings (no native ENUM type): portable across SQLite and PostgreSQL.
    return Enum(cls, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_key: Mapped[str] = mapped_column(String(200), unique=True)
    conversation_id: Mapped[str] = mapped_column(String(200), index=True)
    channel: Mapped[str] = mapped_column(String(50))
    contact: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[TicketStatus] = mapped_column(
        _enum(TicketStatus), default=TicketStatus.WAITING_FOR_AGENT, index=True
    )
    priority: Mapped[Priority] = mapped_column(_enum(Priority), default=Priority.NORMAL)
    category: Mapped[str | None] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(16))
    language_confidence: Mapped[float]
    reason: Mapped[str] = mapped_column(String(100))
    tried_entries: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    escalated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    first_agent_response_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    csat: Mapped[int | None]

    messages: Mapped[list[TranscriptMessage]] = relationship(
        back_populates="ticket", order_by="TranscriptMessage.id", cascade="all, delete-orphan"
    )


class TranscriptMessage(Base):
    """One turn of the conversation, copied onto the ticket; stored as plain text, never HTML."""

    __tablename__ = "transcript_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    author: Mapped[Author] = mapped_column(_enum(Author))
    text: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
