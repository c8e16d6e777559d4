"""The agents' queue and tickets: read, reply, note, assign, change status and priority."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import APIRouter, Path, Query, status

from escalation import tickets
from escalation.api.deps import (
    CurrentAgent,
    MailDep,
    SessionDep,
    SettingsDep,
    SlaDep,
    WorkerDep,
)
from escalation.api.responses import CONFLICT, NOT_FOUND, UNAUTHORIZED
from escalation.api.schemas import (
    MAX_ID,
    AssignIn,
    CannedReplyOut,
    EmailOut,
    MessageOut,
    PriorityIn,
    SlaOut,
    StatusIn,
    TextIn,
    TicketDetail,
    TicketSummary,
)
from escalation.canned import load_canned_replies
from escalation.errors import NotFoundError, TicketStateError
from escalation.mail import queue_transcript
from escalation.models import HANDOFF_STATUSES, Priority, TicketStatus, utc_now
from escalation.sla import clock_of

#: Ids fit the database's 32-bit integer: a larger one is a 422, never a database error.
TicketId = Annotated[int, Path(ge=1, le=MAX_ID)]

router = APIRouter(prefix="/api/tickets", tags=["tickets"], responses={**UNAUTHORIZED, **NOT_FOUND})


@router.get("")
def list_queue(
    session: SessionDep,
    agent: CurrentAgent,
    status_: Annotated[list[TicketStatus], Query(alias="status")] = [],  # noqa: B006
    language: str | None = None,
    priority: Priority | None = None,
    channel: Annotated[
        str | None,
        Query(
            max_length=50,
            description="socketio (widget), rest, telegram, twilio (WhatsApp, SMS), "
            "facebook (Messenger), slack",
        ),
    ] = None,
    mine: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,  # SQLite overflows past 2^63
) -> list[TicketSummary]:
    """The queue, the ticket whose next service-level target comes first at the top; filter
    by status (repeatable), language, priority, channel."""
    queue = tickets.list_tickets(
        session,
        statuses=status_,
        language=language,
        priority=priority,
        channel=channel,
        assignee_id=agent.id if mine else None,
        limit=limit,
        offset=offset,
    )
    now = utc_now()
    return [with_clock(TicketSummary.model_validate(ticket), now) for ticket in queue]


@router.get("/{ticket_id}")
def read_ticket(ticket_id: TicketId, session: SessionDep, _: CurrentAgent) -> TicketDetail:
    """A ticket with its whole transcript, internal notes included."""
    ticket = tickets.ticket_with_transcript(session, ticket_id=ticket_id)
    if ticket is None:
        raise NotFoundError(f"No ticket #{ticket_id}.")
    return with_clock(TicketDetail.model_validate(ticket), utc_now())


Summary = TypeVar("Summary", bound=TicketSummary)


def with_clock(summary: Summary, now: datetime) -> Summary:
    """The summary with its running service-level clock (active tickets only)."""
    if summary.status in HANDOFF_STATUSES:
        clock = clock_of(summary, now=now)
        summary.sla = SlaOut.model_validate(clock) if clock else None
    return summary


@router.post("/{ticket_id}/replies", status_code=status.HTTP_201_CREATED, responses=CONFLICT)
def reply(
    ticket_id: TicketId,
    body: TextIn,
    session: SessionDep,
    agent: CurrentAgent,
    worker: WorkerDep,
    sla: SlaDep,
) -> MessageOut:
    """Answer the customer: stored, then delivered on their channel by the bot."""
    ticket = tickets.get_ticket(session, ticket_id=ticket_id)
    message = tickets.add_reply(session, ticket=ticket, agent=agent, text=body.text, sla=sla)
    session.commit()
    worker.wake()
    return MessageOut.model_validate(message)


@router.get("/{ticket_id}/canned-replies", responses=NOT_FOUND)
def canned_replies(
    ticket_id: TicketId, session: SessionDep, agent: CurrentAgent, settings: SettingsDep
) -> list[CannedReplyOut]:
    """The canned replies, in the ticket's language, with its number and your name in."""
    ticket = tickets.get_ticket(session, ticket_id=ticket_id)
    return [
        CannedReplyOut(
            title=reply.title,
            text=reply.render(
                language=ticket.language,
                fallback=settings.default_language,
                ticket=ticket.id,
                agent=agent.name.split()[0],
            ),
        )
        for reply in load_canned_replies(settings.canned_replies_path)
    ]


@router.post("/{ticket_id}/notes", status_code=status.HTTP_201_CREATED, responses=CONFLICT)
def add_note(
    ticket_id: TicketId, body: TextIn, session: SessionDep, agent: CurrentAgent
) -> MessageOut:
    """An internal note for agents; the customer never sees it."""
    ticket = tickets.get_ticket(session, ticket_id=ticket_id)
    note = tickets.add_note(session, ticket=ticket, agent=agent, text=body.text)
    session.commit()
    return MessageOut.model_validate(note)


@router.post("/{ticket_id}/assign", responses=CONFLICT)
def assign(
    ticket_id: TicketId, body: AssignIn, session: SessionDep, agent: CurrentAgent, worker: WorkerDep
) -> TicketSummary:
    """Give the ticket to an agent (yourself, to pick it up) or back to the queue; a change
    of hands goes in the ticket's history with who made it and why."""
    ticket = tickets.get_ticket(session, ticket_id=ticket_id)
    assignee = None
    if body.agent_id is not None:
        assignee = tickets.get_agent(session, agent_id=body.agent_id)
    tickets.assign(session, ticket=ticket, agent=assignee, by=agent, reason=body.reason)
    session.commit()
    worker.wake()
    return TicketSummary.model_validate(ticket)


@router.post("/{ticket_id}/status", responses=CONFLICT)
def change_status(
    ticket_id: TicketId,
    body: StatusIn,
    session: SessionDep,
    agent: CurrentAgent,
    worker: WorkerDep,
    sla: SlaDep,
) -> TicketSummary:
    """Move the ticket on: open, pending_customer, resolved (the bot takes over and asks for a
    rating), open again from resolved (the customer hears it is reopened), closed. Moves the
    life cycle does not allow get 409."""
    ticket = tickets.get_ticket(session, ticket_id=ticket_id)
    tickets.change_status(session, ticket=ticket, agent=agent, status=body.status, sla=sla)
    session.commit()
    worker.wake()
    return TicketSummary.model_validate(ticket)


@router.post("/{ticket_id}/priority", responses=CONFLICT)
def change_priority(
    ticket_id: TicketId, body: PriorityIn, session: SessionDep, agent: CurrentAgent, sla: SlaDep
) -> TicketSummary:
    """Set the ticket's priority: its due times are those of the new priority's targets,
    counted from the escalation, and the change goes in the ticket's history."""
    ticket = tickets.get_ticket(session, ticket_id=ticket_id)
    tickets.change_priority(session, ticket=ticket, agent=agent, priority=body.priority, sla=sla)
    session.commit()
    return with_clock(TicketSummary.model_validate(ticket), utc_now())


@router.post(
    "/{ticket_id}/transcript-email", status_code=status.HTTP_202_ACCEPTED, responses=CONFLICT
)
def email_transcript(
    ticket_id: TicketId, session: SessionDep, agent: CurrentAgent, mailer: MailDep
) -> EmailOut:
    """Send the customer the conversation's transcript, attached, to the address they wrote
    in the chat (409 when they wrote none, or e-mail is off). Queued: sent within seconds."""
    if mailer is None:
        raise TicketStateError("E-mail to customers is off: set HELPDESK_SMTP_HOST to turn it on.")
    ticket = tickets.get_ticket(session, ticket_id=ticket_id)
    email = queue_transcript(session, ticket=ticket)
    tickets.record_event(
        session, ticket=ticket, text=f"Transcript e-mailed to {email.to_address} by {agent.name}"
    )
    session.commit()
    mailer.wake()
    return EmailOut.model_validate(email)
