"""Live queue for the console: a server-sent event whenever anything in the queue changes,
a ticket becoming due soon or passing its due time included (the clock moves, no row does).

EventSource cannot send headers. Rather than the bearer token in the URL (and so in access
logs and history), the console asks for a one-use pass valid 30 seconds
(``POST /api/events/ticket``) and opens the stream with it. Changes are found by polling a
cheap fingerprint of the ticket tables once a second, which works the same with several API
replicas and with changes made by the action server.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from escalation.api.deps import BearerDep, CurrentAgent, SessionDep, SettingsDep
from escalation.api.responses import UNAUTHORIZED
from escalation.api.schemas import StreamPass
from escalation.auth import (
    STREAM_TICKET_LIFETIME,
    issue_stream_ticket,
    live_token,
    redeem_stream_ticket,
)
from escalation.db import session_factory
from escalation.models import Delivery, Ticket, TranscriptMessage, utc_now
from escalation.tickets import sla_counts

router = APIRouter(prefix="/api", tags=["live"])

POLL_SECONDS = 1.0
KEEPALIVE_SECONDS = 15.0


@router.post("/events/ticket", status_code=status.HTTP_201_CREATED, responses=UNAUTHORIZED)
def stream_ticket(agent: CurrentAgent, credentials: BearerDep, session: SessionDep) -> StreamPass:
    """A one-use pass for `GET /api/events?ticket=…`, valid 30 seconds."""
    assert credentials is not None  # CurrentAgent has checked it
    ticket = issue_stream_ticket(session, token=credentials.credentials)
    session.commit()
    return StreamPass(ticket=ticket, expires_in=int(STREAM_TICKET_LIFETIME.total_seconds()))


@router.get("/events", response_class=StreamingResponse, responses=UNAUTHORIZED)
async def queue_events(
    settings: SettingsDep, ticket: Annotated[str, Query(min_length=1, max_length=200)]
) -> StreamingResponse:
    """`event: changed` whenever a ticket, message or delivery changes. Opened with a pass
    from `POST /api/events/ticket`; the stream ends when the agent's token does."""
    sessions = session_factory(settings.database)
    token_id = await asyncio.to_thread(_redeem, sessions, ticket)
    if token_id is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "Ask for a new pass: POST /api/events/ticket."
        )
    return StreamingResponse(
        _changes(sessions, token_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _changes(sessions: sessionmaker[Session], token_id: int) -> AsyncIterator[str]:
    last = await asyncio.to_thread(_fingerprint, sessions)
    yield "retry: 2000\n\n"
    quiet = 0.0
    while True:
        await asyncio.sleep(POLL_SECONDS)
        current = await asyncio.to_thread(_fingerprint, sessions)
        if current != last:
            last, quiet = current, 0.0
            yield "event: changed\ndata: {}\n\n"
            continue
        quiet += POLL_SECONDS
        if quiet >= KEEPALIVE_SECONDS:
            quiet = 0.0
            if not await asyncio.to_thread(_live, sessions, token_id):
                return  # signed out, idle or disabled: the stream ends
            yield ": keep-alive\n\n"


def _redeem(sessions: sessionmaker[Session], ticket: str) -> int | None:
    with sessions() as session:
        token_id = redeem_stream_ticket(session, ticket=ticket)
        session.commit()
        return token_id


def _live(sessions: sessionmaker[Session], token_id: int) -> bool:
    """Checked without counting as activity: an open console must still go idle."""
    with sessions() as session:
        return live_token(session, token_id=token_id) is not None


def _fingerprint(sessions: sessionmaker[Session]) -> str:
    with sessions() as session:
        by_status = session.execute(
            select(Ticket.status, func.count(), func.coalesce(func.sum(Ticket.assignee_id), 0))
            .group_by(Ticket.status)
            .order_by(Ticket.status)
        ).all()
        messages = session.scalar(select(func.max(TranscriptMessage.id)))
        deliveries = session.scalar(select(func.max(Delivery.id)))
        service_levels = sla_counts(session, now=utc_now())
    return json.dumps(
        [[list(map(str, row)) for row in by_status], messages, deliveries, service_levels]
    )
