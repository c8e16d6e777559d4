"""Customer satisfaction: the 1-5 rating a customer gives a resolved ticket."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from escalation.db import session_scope
from escalation.models import Ticket, TicketStatus
from escalation.tickets import record_event

RATINGS = range(1, 6)


def record_csat(session: Session, *, ticket_id: int, conversation_id: str, rating: int) -> bool:
    """Store the customer's 1-5 rating on their own resolved ticket; False if not theirs."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.conversation_id != conversation_id:
        return False
    if rating not in RATINGS or ticket.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        return False
    ticket.csat = rating
    record_event(session, ticket=ticket, text=f"Customer rated the help {rating}/5")
    return True


def rate(
    sessions: sessionmaker[Session], *, ticket_id: int, conversation_id: str, rating: int
) -> bool:
    """:func:`record_csat` in its own transaction (the bot's action)."""
    with session_scope(sessions) as session:
        return record_csat(
            session, ticket_id=ticket_id, conversation_id=conversation_id, rating=rating
        )
