"""Live queue for the console: a server-sent event whenever anything in the queue changes.

EventSource cannot send headers, so the token comes as a query parameter on this one route.
Changes are found by polling a cheap fingerprint of the ticket tables once a second, which
works the same with several API replicas and with changes made by the action server.
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

from escalation.api.deps import SettingsDep
from escalation.auth import agent_for_token
from escalation.db import session_factory
from escalation.models import Delivery, Ticket, TranscriptMessage

router = APIRouter(prefix="/api", tags=["live"])

POLL_SECONDS = 1.0
KEEPALIVE_SECONDS = 15.0


@router.get("/events", response_class=StreamingResponse)
async def queue_events(
    settings: SettingsDep, token: Annotated[str, Query(min_length=1, max_length=200)]
) -> StreamingResponse:
    """`event: changed` whenever a ticket, message or delivery changes (token: query param)."""
    sessions = session_factory(settings.database)
    if not await asyncio.to_thread(_valid, sessions, token):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Sign in first.")
    return StreamingResponse(
        _changes(sessions, token),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _changes(sessions: sessionmaker[Session], token: str) -> AsyncIterator[str]:
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
            if not await asyncio.to_thread(_valid, sessions, token):
                return  # signed out or expired: the stream ends
            yield ": keep-alive\n\n"


def _valid(sessions: sessionmaker[Session], token: str) -> bool:
    with sessions() as session:
        return agent_for_token(session, token=token, touch=False) is not None


def _fingerprint(sessions: sessionmaker[Session]) -> str:
    with sessions() as session:
        by_status = session.execute(
            select(Ticket.status, func.count(), func.coalesce(func.sum(Ticket.assignee_id), 0))
            .group_by(Ticket.status)
            .order_by(Ticket.status)
        ).all()
        messages = session.scalar(select(func.max(TranscriptMessage.id)))
        deliveries = session.scalar(select(func.max(Delivery.id)))
    return json.dumps([[list(map(str, row)) for row in by_status], messages, deliveries])
