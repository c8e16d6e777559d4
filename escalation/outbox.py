"""The delivery outbox: what agents' actions queue for the customer, said exactly once.

A row is written in the same transaction as the reply or status change that made it; the
worker (escalation/delivery.py) asks Rasa to say it, the bot's action says it unless the
conversation shows it said already, and the worker marks it delivered only once Rasa's
stored conversation holds it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from escalation.db import session_scope
from escalation.models import Delivery, DeliveryKind, utc_now


@dataclass(frozen=True)
class DeliveryContent:
    """What the bot says for a queued row."""

    kind: DeliveryKind
    ticket_id: int
    text: str | None
    agent_first_name: str | None


@dataclass(frozen=True)
class QueuedDelivery:
    delivery_id: int
    ticket_id: int
    conversation_id: str


def pending_deliveries(session: Session, *, limit: int = 50) -> list[Delivery]:
    """Deliveries not yet said, in the order they were made."""
    query = select(Delivery).where(Delivery.delivered_at.is_(None)).order_by(Delivery.id)
    return list(session.scalars(query.limit(limit)))


def undelivered(session: Session, *, delivery_id: int, conversation_id: str) -> Delivery | None:
    """The row, if it is still to be said and belongs to this conversation."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None or delivery.delivered_at is not None:
        return None
    return delivery if delivery.ticket.conversation_id == conversation_id else None


def mark_delivered(session: Session, *, delivery_id: int) -> None:
    session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.delivered_at.is_(None))
        .values(delivered_at=utc_now())
    )


def record_delivery_failure(session: Session, *, delivery_id: int, error: str) -> None:
    delivery = session.get(Delivery, delivery_id)
    if delivery is not None:
        delivery.attempts += 1
        delivery.last_error = error[:2000]


def delivery_attempts(session: Session, *, delivery_id: int) -> int:
    delivery = session.get(Delivery, delivery_id)
    return delivery.attempts if delivery is not None else 0


# One transaction each: the bot's action and the delivery worker.


def content(
    sessions: sessionmaker[Session], *, delivery_id: int, conversation_id: str
) -> DeliveryContent | None:
    """What to say for the row; None if it was delivered already or is not this
    conversation's (a forged or misdirected trigger)."""
    with session_scope(sessions) as session:
        delivery = undelivered(session, delivery_id=delivery_id, conversation_id=conversation_id)
        if delivery is None:
            return None
        # A reply is signed by whoever wrote it; a pick-up by whoever has the ticket.
        author = delivery.message.agent if delivery.message else None
        agent = author or delivery.ticket.assignee
        return DeliveryContent(
            kind=delivery.kind,
            ticket_id=delivery.ticket_id,
            text=delivery.message.text if delivery.message else None,
            agent_first_name=agent.name.split()[0] if agent else None,
        )


def delivered(sessions: sessionmaker[Session], *, delivery_id: int) -> None:
    """The conversation holds the row's message: it leaves the queue."""
    with session_scope(sessions) as session:
        mark_delivered(session, delivery_id=delivery_id)


def queued(sessions: sessionmaker[Session]) -> list[QueuedDelivery]:
    """Rows not yet said, oldest first."""
    with session_scope(sessions) as session:
        return [
            QueuedDelivery(row.id, row.ticket_id, row.ticket.conversation_id)
            for row in pending_deliveries(session)
        ]


def record_failure(sessions: sessionmaker[Session], *, delivery_id: int, error: str) -> int:
    """Note a failed attempt; returns how many attempts the row has had."""
    with session_scope(sessions) as session:
        record_delivery_failure(session, delivery_id=delivery_id, error=error)
        return delivery_attempts(session, delivery_id=delivery_id)
