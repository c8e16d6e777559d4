"""Proactive notices: a customer whose first answer is about to be late hears so, once.

Once a minute the API looks for tickets waiting for their first agent response that are
due soon (``first_response_warn_at``, escalation/sla.py) and queues a delay notice for each, to
be said on the customer's channel like an agent's reply (escalation/delivery.py). The
ticket's ``delay_notice_at`` is claimed with a conditional update first, so two API
processes, or a tick that runs again after a crash, queue it once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from escalation.db import session_scope
from escalation.models import Delivery, DeliveryKind, Ticket, TicketStatus, utc_now

logger = logging.getLogger(__name__)

CHECK_EVERY_SECONDS = 60.0


def queue_delay_notices(sessions: sessionmaker[Session], now: datetime) -> int:
    """Queue a delay notice for each ticket late enough that has none; how many."""
    with session_scope(sessions) as session:
        late = session.scalars(
            select(Ticket.id).where(
                Ticket.status == TicketStatus.WAITING_FOR_AGENT,
                Ticket.first_agent_response_at.is_(None),
                Ticket.first_response_warn_at <= now,
                Ticket.delay_notice_at.is_(None),
            )
        ).all()
        queued = sum(_claim_and_queue(session, ticket_id, now) for ticket_id in late)
    if queued:
        logger.info("delay notices queued: %s", queued)
    return queued


def _claim_and_queue(session: Session, ticket_id: int, now: datetime) -> bool:
    claimed = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.delay_notice_at.is_(None))
        .values(delay_notice_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return False  # another process did
    session.add(Delivery(ticket_id=ticket_id, kind=DeliveryKind.DELAY_NOTICE))
    return True


async def delay_notice_schedule(sessions: sessionmaker[Session], wake: Callable[[], None]) -> None:
    """Check once a minute for as long as the API runs; wake the delivery worker on news."""
    while True:
        try:
            if await asyncio.to_thread(queue_delay_notices, sessions, utc_now()):
                wake()
        except Exception:  # a locked database: the next minute tries again
            logger.exception("delay notices failed")
        await asyncio.sleep(CHECK_EVERY_SECONDS)
