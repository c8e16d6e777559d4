"""Ticket operations. Keyword-only, one transaction per caller (see escalation.db.session_scope)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from escalation.models import Author, Priority, Ticket, TranscriptMessage


@dataclass(frozen=True)
class TranscriptLine:
    author: Author
    text: str
    sent_at: datetime


@dataclass(frozen=True)
class Escalation:
    """What the bot knows when it hands a conversation over.

    ``key`` identifies the escalation itself (e.g. conversation id + the turn it happened
    on): delivering the same escalation twice must not make two tickets.
    """

    key: str
    conversation_id: str
    channel: str
    language: str
    language_confidence: float
    reason: str
    transcript: Sequence[TranscriptLine]
    contact: str | None = None
    priority: Priority = Priority.NORMAL
    category: str | None = None
    tried_entries: list[dict[str, Any]] = field(default_factory=list)


def create_ticket_once(session: Session, *, escalation: Escalation) -> tuple[Ticket, bool]:
    """The ticket for ``escalation``, created unless it exists; returns (ticket, created).

    Exactly once comes from the unique constraint on ``escalation_key``, so two processes
    racing on the same escalation still make one ticket: the loser reads the winner's.
    """
    existing = ticket_by_key(session, key=escalation.key)
    if existing is not None:
        return existing, False
    ticket = Ticket(
        escalation_key=escalation.key,
        conversation_id=escalation.conversation_id,
        channel=escalation.channel,
        contact=escalation.contact,
        priority=escalation.priority,
        category=escalation.category,
        language=escalation.language,
        language_confidence=escalation.language_confidence,
        reason=escalation.reason,
        tried_entries=list(escalation.tried_entries),
        messages=[
            TranscriptMessage(author=line.author, text=line.text, sent_at=line.sent_at)
            for line in escalation.transcript
        ],
    )
    try:
        with session.begin_nested():
            session.add(ticket)
    except IntegrityError:
        winner = ticket_by_key(session, key=escalation.key)
        if winner is None:  # the integrity error was something else
            raise
        return winner, False
    return ticket, True


def ticket_by_key(session: Session, *, key: str) -> Ticket | None:
    return session.scalar(select(Ticket).where(Ticket.escalation_key == key))
