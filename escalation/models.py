"""Tickets and their transcripts (SQLAlchemy 2.0 typed models).

A ticket is created once per escalation (unique ``escalation_key``) and carries everything an
agent needs: who, where, which language, why, what the bot tried, and every turn said.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    Enum,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

#: Stable constraint names, so Alembic migrations can name what they alter.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


#: How much of the customer's latest message a queue row shows.
PREVIEW_CHARS = 200


def utc_now() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A moment in UTC, aware on every database.

    SQLite has no time zones and hands back naive datetimes even for timezone-aware
    columns; the console then showed them shifted by the agent's UTC offset. Stored as UTC,
    read back as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: give the time zone (UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def preview_of(text: str) -> str:
    """``text`` on one line, shortened to PREVIEW_CHARS with an ellipsis."""
    line = " ".join(text.split())
    return line if len(line) <= PREVIEW_CHARS else line[: PREVIEW_CHARS - 1] + "…"


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


#: Where an agent may move a ticket from each status. Resolving hands the conversation back
#: to the bot, so a resolved ticket is only ever closed; a returning customer gets a new one.
STATUS_TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.WAITING_FOR_AGENT: frozenset({TicketStatus.OPEN, TicketStatus.RESOLVED}),
    TicketStatus.OPEN: frozenset({TicketStatus.PENDING_CUSTOMER, TicketStatus.RESOLVED}),
    TicketStatus.PENDING_CUSTOMER: frozenset({TicketStatus.OPEN, TicketStatus.RESOLVED}),
    TicketStatus.RESOLVED: frozenset({TicketStatus.OPEN, TicketStatus.CLOSED}),
    TicketStatus.CLOSED: frozenset(),
}

#: While a ticket is in one of these, a person owns the conversation and the bot stays quiet.
HANDOFF_STATUSES = frozenset(
    {TicketStatus.WAITING_FOR_AGENT, TicketStatus.OPEN, TicketStatus.PENDING_CUSTOMER}
)


class Author(enum.StrEnum):
    CUSTOMER = "customer"
    BOT = "bot"
    AGENT = "agent"
    NOTE = "note"  # internal: never sent to the customer
    SYSTEM = "system"  # what happened to the ticket: handed over, picked up, resolved, rated


class Role(enum.StrEnum):
    """What an agent may do: answer tickets; also edit the live FAQ (editor); also manage
    agents and customers' data (admin, who may edit the FAQ too)."""

    AGENT = "agent"
    #: an agent who may also write, publish and unpublish FAQ entries
    EDITOR = "editor"
    ADMIN = "admin"


class DeliveryKind(enum.StrEnum):
    """What the bot must tell the customer on the agent's behalf."""

    AGENT_REPLY = "agent_reply"
    PICKED_UP = "picked_up"
    RESOLVED = "resolved"
    #: the first-response target is about to be missed: the customer hears it is still coming
    DELAY_NOTICE = "delay_notice"
    #: the agent set the ticket to wait for the customer: the customer hears it is their turn
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    #: an agent opened a resolved ticket again: the conversation is theirs once more
    REOPENED = "reopened"


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
    team: Mapped[str | None] = mapped_column(String(50), index=True)
    language: Mapped[str] = mapped_column(String(16))
    language_confidence: Mapped[float]
    reason: Mapped[str] = mapped_column(String(100))
    tried_entries: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    order_number: Mapped[str | None] = mapped_column(String(32))
    #: The customer's latest message, shortened: the queue shows it without the transcript.
    preview: Mapped[str | None] = mapped_column(String(PREVIEW_CHARS))
    escalated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, index=True)
    first_agent_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Service-level due times in business time (escalation/sla.py); none before migration 0007.
    first_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    resolution_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    #: From when each counts as due soon (the policy's warn_at share of it); migration 0010.
    first_response_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    resolution_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    #: How long the first response and the resolution took, wall-clock and in the SLA
    #: calendar's open time, in seconds: written when they happen (escalation/tickets.py),
    #: so analytics reads numbers instead of working out calendars per ticket.
    first_response_seconds: Mapped[float | None] = mapped_column(Float)
    first_response_business_seconds: Mapped[float | None] = mapped_column(Float)
    resolution_seconds: Mapped[float | None] = mapped_column(Float)
    resolution_business_seconds: Mapped[float | None] = mapped_column(Float)
    #: Since when the service-level clock stands still: the ticket waits on the customer.
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the customer was told their first answer is late (once per ticket).
    delay_notice_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The address the customer wrote in the conversation, latest first (escalation/mail.py).
    customer_email: Mapped[str | None] = mapped_column(String(254))
    csat: Mapped[int | None]
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)

    assignee: Mapped[Agent | None] = relationship()
    messages: Mapped[list[TranscriptMessage]] = relationship(
        back_populates="ticket", order_by="TranscriptMessage.id", cascade="all, delete-orphan"
    )


class TranscriptMessage(Base):
    """One turn of the conversation, copied onto the ticket; stored as plain text, never HTML."""

    __tablename__ = "transcript_messages"
    # A customer message relayed during the handoff is keyed by its channel message id:
    # a redelivered message is not added twice.
    __table_args__ = (UniqueConstraint("ticket_id", "source_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    author: Mapped[Author] = mapped_column(_enum(Author))
    text: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    source_key: Mapped[str | None] = mapped_column(String(200))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
    agent: Mapped[Agent | None] = relationship()
    #: How an agent's reply is getting to the customer (none for other messages).
    delivery: Mapped[Delivery | None] = relationship(viewonly=True, uselist=False)


class Agent(Base):
    """A person who answers tickets; signs in with email and password (Argon2 hash)."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    role: Mapped[Role] = mapped_column(_enum(Role), default=Role.AGENT, server_default="agent")
    #: Languages (ISO codes) the agent answers in, and their team: new tickets are routed by
    #: them (escalation/routing.py). Away agents get no new tickets.
    languages: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    team: Mapped[str | None] = mapped_column(String(50))
    available: Mapped[bool] = mapped_column(default=True, server_default=true())
    #: Set when the agent may no longer sign in (tickets keep their name).
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Wrong passwords in a row, and until when sign-in is paused (escalation/auth.py).
    failed_signins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AgentToken(Base):
    """A bearer token issued at sign-in; only its SHA-256 is stored."""

    __tablename__ = "agent_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    agent: Mapped[Agent] = relationship()


class StreamTicket(Base):
    """A one-use, short-lived pass to open the console's event stream.

    EventSource cannot send headers: the bearer token would travel in the URL, and so into
    access logs and browser history. The stream is opened with one of these instead.
    """

    __tablename__ = "stream_tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_id: Mapped[int] = mapped_column(
        ForeignKey("agent_tokens.id", ondelete="CASCADE"), index=True
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Delivery(Base):
    """Something to say to the customer on the agent's behalf, kept until the bot has said it.

    Written in the same transaction as the change that causes it (a reply, a status change),
    so a crash of the API never loses one; ``delivered_at`` is set by the delivery worker once
    Rasa's stored conversation holds it (escalation/delivery.py).
    """

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[DeliveryKind] = mapped_column(_enum(DeliveryKind))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("transcript_messages.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)

    ticket: Mapped[Ticket] = relationship()
    message: Mapped[TranscriptMessage | None] = relationship()


class EmailKind(enum.StrEnum):
    #: what a delivery said in the chat, for a customer no longer there to read it
    UPDATE = "update"
    #: the conversation's transcript, attached, as the customer asked an agent
    TRANSCRIPT = "transcript"


class Email(Base):
    """An e-mail to the customer, kept until the SMTP server took it (escalation/mail.py).

    Written in the same transaction as what causes it; sent at least once (a crash between
    the server's "250 OK" and ``sent_at`` sends it again, with the same Message-ID).
    """

    __tablename__ = "emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[EmailKind] = mapped_column(_enum(EmailKind))
    #: The chat delivery it repeats (an update): one e-mail per delivery.
    delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), unique=True
    )
    to_address: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    #: Not tried again before then: a claim by one API process, or the back-off after a failure.
    next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)

    ticket: Mapped[Ticket] = relationship()
    delivery: Mapped[Delivery | None] = relationship()


class OutcomeKind(enum.StrEnum):
    """What the FAQ did with a customer's question."""

    ANSWERED = "answered"
    #: two entries fit about equally well: the bot asked which was meant
    CLARIFIED = "clarified"
    #: nothing fit well enough: the bot said it was not sure
    DECLINED = "declined"


class TurnOutcome(Base):
    """One FAQ decision, recorded as it happens (escalation/outcomes.py), for analytics and
    knowledge-gap mining; the customer's "did this help?" lands on the answered row.

    Once per turn: ``turn_key`` (conversation and message id) is unique, so a retried action
    records nothing twice. Escalations are the tickets table's.
    """

    __tablename__ = "turn_outcomes"
    # Covers what the per-entry figures of a period read (escalation/analytics.py).
    __table_args__ = (
        Index(
            "ix_turn_outcomes_period",
            "occurred_at",
            "kind",
            "entry_id",
            "helped",
            "language",
            "channel",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    turn_key: Mapped[str] = mapped_column(String(300), unique=True)
    conversation_id: Mapped[str] = mapped_column(String(200), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, index=True)
    channel: Mapped[str] = mapped_column(String(50))
    language: Mapped[str] = mapped_column(String(16))
    kind: Mapped[OutcomeKind] = mapped_column(_enum(OutcomeKind))
    #: The entry answered with (answered), or the best candidate (clarified, declined).
    entry_id: Mapped[str | None] = mapped_column(String(200), index=True)
    score: Mapped[float | None] = mapped_column(Float)
    #: The customer's words (blanked by the retention period, escalation/privacy.py).
    question: Mapped[str | None] = mapped_column(Text)
    #: The answer to "did this help?" (None: not asked or not answered).
    helped: Mapped[bool | None]
    #: An answer the same conversation asked about again (same entry) within 24 hours: it
    #: did not settle the question. Set when the later question is recorded.
    came_back: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: For a question the FAQ did not settle (declined, clarified, "did not help"): its
    #: vector (float16) from ``vector_model``, and the cosine at which that FAQ and model
    #: take two questions for the same one (knowledge/paraphrase.py): gap mining groups by it.
    vector: Mapped[bytes | None] = mapped_column(LargeBinary)
    vector_model: Mapped[str | None] = mapped_column(String(200))
    same_question_bar: Mapped[float | None] = mapped_column(Float)


class FaqEntryStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    #: taken back: the bot no longer answers with it (a YAML entry of the same id returns)
    UNPUBLISHED = "unpublished"


class LiveFaqEntry(Base):
    """An FAQ entry written in the console (often from an agent's answer or a knowledge
    gap), answered with by the running bot once published (escalation/faq_entries.py).

    ``variants`` has the YAML files' shape: ``{lang: {question, alternatives, answer}}``. A
    published entry with the id of a YAML entry takes its place until it is unpublished.
    """

    __tablename__ = "faq_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(100), unique=True)
    status: Mapped[FaqEntryStatus] = mapped_column(
        _enum(FaqEntryStatus), default=FaqEntryStatus.DRAFT, index=True
    )
    variants: Mapped[dict[str, Any]] = mapped_column(JSON)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The ticket whose agent reply it was drafted from, if any.
    source_ticket_id: Mapped[int | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    #: Moves on every change: the action servers reload the live FAQ when it does.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, index=True)

    revisions: Mapped[list[FaqEntryRevision]] = relationship(
        back_populates="entry", order_by="FaqEntryRevision.id", cascade="all, delete-orphan"
    )


class FaqEntryRevision(Base):
    """Who changed a live FAQ entry, when, how (drafted, edited, published, unpublished),
    and the entry as it was after."""

    __tablename__ = "faq_entry_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    faq_entry_id: Mapped[int] = mapped_column(
        ForeignKey("faq_entries.id", ondelete="CASCADE"), index=True
    )
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    action: Mapped[str] = mapped_column(String(20))
    status: Mapped[FaqEntryStatus] = mapped_column(_enum(FaqEntryStatus))
    variants: Mapped[dict[str, Any]] = mapped_column(JSON)

    entry: Mapped[LiveFaqEntry] = relationship(back_populates="revisions")
    agent: Mapped[Agent | None] = relationship()


class ConversationOutcome(Base):
    """One conversation's outcomes added up as they are recorded (escalation/outcomes.py):
    a period's conversation figures (containment, verified deflection, the FAQ's decisions)
    are then one indexed aggregate over the conversations started in it, however many
    turns they had (a year of a million turns in well under a second)."""

    __tablename__ = "conversation_outcomes"
    __table_args__ = (
        Index(
            "ix_conversation_outcomes_period",
            "started_at",
            "language",
            "channel",
            "escalated",
            "answered",
            "clarified",
            "declined",
            "helped",
            "not_helped",
            "came_back",
        ),
    )

    conversation_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    #: The conversation's first recorded moment; its language and channel then.
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    language: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(50))
    answered: Mapped[int] = mapped_column(default=0)
    clarified: Mapped[int] = mapped_column(default=0)
    declined: Mapped[int] = mapped_column(default=0)
    helped: Mapped[int] = mapped_column(default=0)
    not_helped: Mapped[int] = mapped_column(default=0)
    #: Answers the customer asked about again within 24 hours.
    came_back: Mapped[int] = mapped_column(default=0)
    #: A ticket was made: a person was needed.
    escalated: Mapped[bool] = mapped_column(default=False)
