"""Everything stored about one customer (a conversation): export it, erase it (GDPR
articles 15 and 17), and retention: conversations whose tickets were closed long ago go on
their own.

Two stores hold a conversation: the ticket database (tickets, transcripts, deliveries) and
Rasa's tracker store (every message and bot action). Both are exported and erased together;
after an erase the database files are vacuumed so the text is not left in free pages.
Logs at INFO hold conversation ids and FAQ entry ids, never message text.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, selectinload

from core.settings import Settings
from escalation import tracker_store
from escalation.db import reclaim_space, session_factory, session_scope
from escalation.models import (
    ConversationOutcome,
    Delivery,
    Email,
    Ticket,
    TicketStatus,
    TranscriptMessage,
    TurnOutcome,
    utc_now,
)

logger = logging.getLogger(__name__)

RETENTION_EVERY = timedelta(days=1)


@dataclass(frozen=True)
class Erased:
    conversations: int
    tickets: int
    tracker_events: int


def export_customer(settings: Settings, *, conversation_id: str) -> dict[str, Any]:
    """All we hold about the conversation, as one JSON document."""
    with session_scope(session_factory(settings.database)) as session:
        tickets = customer_tickets(session, conversation_id=conversation_id)
        outcomes = [
            {
                "at": row.occurred_at.isoformat(),
                "question": row.question,
                "decision": row.kind.value,
                "entry_id": row.entry_id,
                "helped": row.helped,
            }
            for row in session.scalars(
                select(TurnOutcome).where(TurnOutcome.conversation_id == conversation_id)
            )
        ]
    events = tracker_store.conversation_events(
        settings.tracker_store, conversation_id=conversation_id
    )
    return {
        "conversation_id": conversation_id,
        "exported_at": utc_now().isoformat(),
        "tickets": tickets,
        "faq_outcomes": outcomes,
        "conversation": events,
    }


def erase_customers(settings: Settings, conversation_ids: list[str]) -> Erased:
    """Delete the conversations from both stores, then vacuum both."""
    tickets = 0
    with session_scope(session_factory(settings.database)) as session:
        for conversation_id in conversation_ids:
            tickets += erase_customer_tickets(session, conversation_id=conversation_id)
    url = settings.tracker_store
    events = tracker_store.delete_conversations(url, conversation_ids)
    reclaim_space(settings.database)
    if events:
        reclaim_space(url)
    return Erased(len(conversation_ids), tickets, events)


def apply_retention(settings: Settings, *, days: int) -> Erased:
    """Erase every conversation whose tickets were all resolved more than ``days`` ago."""
    closed_before = utc_now() - timedelta(days=days)
    with session_scope(session_factory(settings.database)) as session:
        expired = expired_conversations(session, closed_before=closed_before)
        forget_old_questions(session, before=closed_before)
    erased = erase_customers(settings, expired) if expired else Erased(0, 0, 0)
    logger.info("retention (%s days): %s conversations erased", days, erased.conversations)
    return erased


async def retention_schedule(settings: Settings, *, days: int) -> None:
    """Apply retention now and then once a day, for as long as the API runs."""
    while True:
        try:
            await asyncio.to_thread(apply_retention, settings, days=days)
        except Exception:  # a locked database: try again tomorrow, keep serving
            logger.exception("retention failed")
        await asyncio.sleep(RETENTION_EVERY.total_seconds())


def customer_tickets(session: Session, *, conversation_id: str) -> list[dict[str, Any]]:
    """Every ticket of the conversation with its whole transcript, as plain JSON values."""
    query = (
        select(Ticket)
        .where(Ticket.conversation_id == conversation_id)
        .options(selectinload(Ticket.messages).selectinload(TranscriptMessage.agent))
        .order_by(Ticket.id)
    )
    return [_ticket_record(ticket) for ticket in session.scalars(query)]


def erase_customer_tickets(session: Session, *, conversation_id: str) -> int:
    """Delete the conversation's tickets, their transcripts and queued deliveries; how many
    tickets there were. Agents keep their accounts; nothing else names the customer."""
    ticket_ids = list(
        session.scalars(select(Ticket.id).where(Ticket.conversation_id == conversation_id))
    )
    _delete_tickets(session, ticket_ids)
    session.execute(delete(TurnOutcome).where(TurnOutcome.conversation_id == conversation_id))
    session.execute(
        delete(ConversationOutcome).where(ConversationOutcome.conversation_id == conversation_id)
    )
    return len(ticket_ids)


def forget_old_questions(session: Session, *, before: datetime) -> None:
    """Blank the customers' words in FAQ outcomes older than the retention period: the counts
    stay for analytics, what anyone wrote goes."""
    session.execute(
        update(TurnOutcome)
        .where(TurnOutcome.occurred_at < before, TurnOutcome.question.is_not(None))
        .values(question=None)
    )


def expired_conversations(session: Session, *, closed_before: datetime) -> list[str]:
    """Conversations whose every ticket was resolved or closed before ``closed_before``:
    the ones retention erases. A conversation with any ticket still open is kept whole."""
    done = (TicketStatus.RESOLVED, TicketStatus.CLOSED)
    old = select(Ticket.conversation_id).where(
        Ticket.status.in_(done), Ticket.resolved_at < closed_before
    )
    recent_or_open = select(Ticket.conversation_id).where(
        ~Ticket.status.in_(done) | (Ticket.resolved_at >= closed_before)
    )
    return sorted(set(session.scalars(old.distinct())) - set(session.scalars(recent_or_open)))


def _delete_tickets(session: Session, ticket_ids: list[int]) -> None:
    if not ticket_ids:
        return
    session.execute(delete(Email).where(Email.ticket_id.in_(ticket_ids)))
    session.execute(delete(Delivery).where(Delivery.ticket_id.in_(ticket_ids)))
    session.execute(delete(TranscriptMessage).where(TranscriptMessage.ticket_id.in_(ticket_ids)))
    session.execute(delete(Ticket).where(Ticket.id.in_(ticket_ids)))


def _ticket_record(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "conversation_id": ticket.conversation_id,
        "channel": ticket.channel,
        "contact": ticket.contact,
        "email": ticket.customer_email,
        "language": ticket.language,
        "status": ticket.status.value,
        "priority": ticket.priority.value,
        "category": ticket.category,
        "reason": ticket.reason,
        "order_number": ticket.order_number,
        "escalated_at": ticket.escalated_at.isoformat(),
        "first_agent_response_at": _iso(ticket.first_agent_response_at),
        "resolved_at": _iso(ticket.resolved_at),
        "csat": ticket.csat,
        "what_the_bot_tried": ticket.tried_entries,
        "messages": [
            {
                "author": message.author.value,
                "agent": message.agent.name if message.agent else None,
                "text": message.text,
                "sent_at": message.sent_at.isoformat(),
            }
            for message in ticket.messages
        ],
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
