"""Tickets: created once per escalation, the customer's and agents' turns, the life cycle.

Functions taking a ``Session`` work inside the caller's transaction (the API's request
session); those taking ``sessions`` (a factory) run their own, for the bot's actions.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from escalation.db import session_scope
from escalation.errors import NotFoundError, TicketStateError
from escalation.mail import note_address
from escalation.models import (
    HANDOFF_STATUSES,
    STATUS_TRANSITIONS,
    Agent,
    Author,
    Delivery,
    DeliveryKind,
    Priority,
    Ticket,
    TicketStatus,
    TranscriptMessage,
    preview_of,
    utc_now,
)
from escalation.outcomes import tally
from escalation.routing import route
from escalation.sla import Deadlines, Policy, RoutingIn

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TranscriptLine:
    author: Author
    text: str
    sent_at: datetime
    #: The channel's id of a customer message: relaying it again adds nothing.
    source_key: str | None = None


#: How far before a ticket's escalation a relay still looks for messages it may have missed:
#: the clocks of Rasa (message times) and of the action server (ticket times) may differ.
#: Messages from before the escalation are on the ticket already, with their keys.
CLOCK_MARGIN = timedelta(seconds=60)


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
    order_number: str | None = None
    #: Service-level due times (escalation/sla.py), computed by whoever escalates.
    deadlines: Deadlines | None = None


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
        order_number=escalation.order_number,
        **(asdict(escalation.deadlines) if escalation.deadlines else {}),
        preview=last_customer_words(escalation.transcript),
        messages=[
            *(
                TranscriptMessage(
                    author=line.author,
                    text=line.text,
                    sent_at=line.sent_at,
                    source_key=line.source_key,
                )
                for line in escalation.transcript
            ),
            TranscriptMessage(
                author=Author.SYSTEM,
                text=f"Handed to a person ({escalation.reason.replace('_', ' ')})",
                sent_at=utc_now(),
            ),
        ],
    )
    for line in escalation.transcript:
        if line.author == Author.CUSTOMER:
            note_address(ticket, line.text)
    try:
        with session.begin_nested():
            session.add(ticket)
    except IntegrityError:
        winner = ticket_by_key(session, key=escalation.key)
        if winner is None:  # the integrity error was something else
            raise
        return winner, False
    said = [line.sent_at for line in escalation.transcript]
    tally(  # a person was needed: the conversation is not contained
        session,
        conversation_id=escalation.conversation_id,
        at=min(said) if said else utc_now(),
        language=escalation.language,
        channel=escalation.channel,
        escalated=True,
    )
    return ticket, True


def last_customer_words(transcript: Sequence[TranscriptLine]) -> str | None:
    """The preview of the customer's latest line, if they said anything."""
    said = [line.text for line in transcript if line.author == Author.CUSTOMER]
    return preview_of(said[-1]) if said else None


def ticket_by_key(session: Session, *, key: str) -> Ticket | None:
    return session.scalar(select(Ticket).where(Ticket.escalation_key == key))


def ticket_by_id(session: Session, *, ticket_id: int) -> Ticket | None:
    return session.get(Ticket, ticket_id)


def ticket_with_transcript(session: Session, *, ticket_id: int) -> Ticket | None:
    query = (
        select(Ticket)
        .where(Ticket.id == ticket_id)
        .options(
            selectinload(Ticket.messages).selectinload(TranscriptMessage.agent),
            selectinload(Ticket.messages).selectinload(TranscriptMessage.delivery),
        )
    )
    return session.scalar(query)


def list_tickets(
    session: Session,
    *,
    statuses: Sequence[TicketStatus] = (),
    language: str | None = None,
    priority: Priority | None = None,
    channel: str | None = None,
    assignee_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Ticket]:
    """The queue, the ticket whose next service-level target comes first at the top (its first
    response until an agent answered, then its resolution); without due times, the one
    waiting longest."""
    next_due = case(
        (Ticket.first_agent_response_at.is_(None), Ticket.first_response_due_at),
        else_=Ticket.resolution_due_at,
    )
    query = (
        select(Ticket)
        .order_by(next_due.is_(None), next_due, Ticket.escalated_at, Ticket.id)
        .limit(limit)
        .offset(offset)
    )
    if statuses:
        query = query.where(Ticket.status.in_(statuses))
    if language:
        query = query.where(Ticket.language == language)
    if priority:
        query = query.where(Ticket.priority == priority)
    if channel:
        query = query.where(Ticket.channel == channel)
    if assignee_id is not None:
        query = query.where(Ticket.assignee_id == assignee_id)
    return list(session.scalars(query))


def sla_counts(session: Session, *, now: datetime) -> dict[str, dict[str, int]]:
    """Active tickets due soon (``warning``) and past due (``breached``) on their next
    service-level target: first response while no agent has answered, then resolution. A
    ticket waiting on the customer has its clock stopped: it counts in neither."""
    active = Ticket.status.in_([TicketStatus.WAITING_FOR_AGENT, TicketStatus.OPEN])
    unanswered = Ticket.first_agent_response_at.is_(None)
    targets = {
        "first_response": (unanswered, Ticket.first_response_warn_at, Ticket.first_response_due_at),
        "resolution": (~unanswered, Ticket.resolution_warn_at, Ticket.resolution_due_at),
    }
    counts: dict[str, dict[str, int]] = {"warning": {}, "breached": {}}
    for target, (running, warn_at, due_at) in targets.items():
        breached, warning = session.execute(
            select(
                func.count(case((due_at <= now, 1))),
                func.count(case(((warn_at <= now) & (due_at > now), 1))),
            ).where(active, running, due_at.is_not(None))
        ).one()
        counts["breached"][target], counts["warning"][target] = breached, warning
    return counts


def handoff_ticket(session: Session, *, conversation_id: str) -> Ticket | None:
    """The conversation's ticket that a person currently owns, if any."""
    query = (
        select(Ticket)
        .where(Ticket.conversation_id == conversation_id, Ticket.status.in_(HANDOFF_STATUSES))
        .order_by(Ticket.id.desc())
        .limit(1)
    )
    return session.scalar(query)


def append_customer_message(
    session: Session,
    *,
    ticket: Ticket,
    text: str,
    sent_at: datetime,
    source_key: str,
    sla: Policy | None = None,
) -> bool:
    """Add a customer turn said during the handoff; False if this message was already added.

    A customer writing to a ticket that waits on them puts it back in the agents' queue, and
    its service-level clock runs again.
    """
    # By id, not relationship: a duplicate must not linger in ``ticket.messages`` in memory.
    message = TranscriptMessage(
        ticket_id=ticket.id,
        author=Author.CUSTOMER,
        text=text,
        sent_at=sent_at,
        source_key=source_key,
    )
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        return False
    session.expire(ticket, ["messages"])
    ticket.preview = preview_of(text)
    note_address(ticket, text)
    if ticket.status == TicketStatus.PENDING_CUSTOMER:
        ticket.status = TicketStatus.OPEN
        _resume_clock(ticket, sla)
    return True


def _resume_clock(ticket: Ticket, sla: Policy | None) -> None:
    """The ticket no longer waits on the customer: its open deadlines move on by the
    business time the wait took (a first response already given keeps its due time)."""
    paused_at, ticket.paused_at = ticket.paused_at, None
    if paused_at is None or sla is None:
        return
    names = ["resolution_due_at", "resolution_warn_at"]
    if ticket.first_agent_response_at is None:
        names += ["first_response_due_at", "first_response_warn_at"]
    now = utc_now()
    for name in names:
        deadline = getattr(ticket, name)
        if deadline is not None:
            moved = sla.after_pause(deadline, team=ticket.team, paused_at=paused_at, now=now)
            setattr(ticket, name, moved)


#: WhatsApp takes a business's free-form messages only within 24 hours of the customer's
#: last message (after it, only templates Meta approved): Twilio would accept the reply and
#: WhatsApp drop it later, so the agent is told at once instead.
WHATSAPP_REPLY_WINDOW = timedelta(hours=24)


def add_reply(
    session: Session, *, ticket: Ticket, agent: Agent, text: str, sla: Policy | None = None
) -> TranscriptMessage:
    """An agent's answer, queued for delivery to the customer's channel; the first one sets
    how long the first response took (in business time too, by ``sla``)."""
    if ticket.status not in HANDOFF_STATUSES:
        raise TicketStateError(f"ticket #{ticket.id} is {ticket.status.value}: it takes no replies")
    now = utc_now()
    _check_reply_window(session, ticket=ticket, now=now)
    _pick_up(session, ticket=ticket, agent=agent)
    message = TranscriptMessage(
        ticket=ticket, author=Author.AGENT, text=text, sent_at=now, agent=agent
    )
    session.add(message)
    session.add(Delivery(ticket=ticket, kind=DeliveryKind.AGENT_REPLY, message=message))
    if ticket.first_agent_response_at is None:
        ticket.first_agent_response_at = now
        settle_durations(ticket, sla)
    logger.info("ticket #%s: reply by agent #%s", ticket.id, agent.id)
    return message


def _check_reply_window(session: Session, *, ticket: Ticket, now: datetime) -> None:
    if not ticket.conversation_id.startswith("whatsapp:"):
        return
    last_heard = session.scalar(
        select(func.max(TranscriptMessage.sent_at)).where(
            TranscriptMessage.ticket_id == ticket.id, TranscriptMessage.author == Author.CUSTOMER
        )
    )
    if last_heard is None or now - last_heard > WHATSAPP_REPLY_WINDOW:
        raise TicketStateError(
            f"ticket #{ticket.id} is a WhatsApp conversation and the customer last wrote more "
            "than 24 hours ago: WhatsApp delivers no reply until they write again"
        )


def add_note(session: Session, *, ticket: Ticket, agent: Agent, text: str) -> TranscriptMessage:
    """An internal note: on the ticket for agents, never sent to the customer."""
    note = TranscriptMessage(
        ticket=ticket, author=Author.NOTE, text=text, sent_at=utc_now(), agent=agent
    )
    session.add(note)
    logger.info("ticket #%s: internal note by agent #%s", ticket.id, agent.id)
    return note


def assign(
    session: Session,
    *,
    ticket: Ticket,
    agent: Agent | None,
    by: Agent | None = None,
    reason: str | None = None,
) -> None:
    """Give the ticket to ``agent`` (None: back to the shared queue); a change of hands by
    someone else is recorded with the reason given."""
    if ticket.status not in HANDOFF_STATUSES:
        raise TicketStateError(
            f"ticket #{ticket.id} is {ticket.status.value}: it is not assignable"
        )
    previous = ticket.assignee
    ticket.assignee = agent
    if previous is not None and previous is not agent and by is not None:
        to = agent.name if agent else "the queue"
        why = f": {reason}" if reason else ""
        record_event(
            session, ticket=ticket, text=f"Moved from {previous.name} to {to} by {by.name}{why}"
        )
    if agent is not None:
        _pick_up(session, ticket=ticket, agent=agent)


def change_status(
    session: Session,
    *,
    ticket: Ticket,
    agent: Agent,
    status: TicketStatus,
    sla: Policy | None = None,
) -> None:
    """Move the ticket along its life cycle; the customer hears of pick-up, of a ticket
    waiting for them (its service-level clock stands still meanwhile), of resolution and of
    a reopened ticket (whose resolution target runs again from then, by ``sla``)."""
    if status == ticket.status:
        return
    if status not in STATUS_TRANSITIONS[ticket.status]:
        raise TicketStateError(
            f"ticket #{ticket.id} cannot go from {ticket.status.value} to {status.value}"
        )
    if status == TicketStatus.OPEN and ticket.status == TicketStatus.WAITING_FOR_AGENT:
        _pick_up(session, ticket=ticket, agent=agent)
        return
    if ticket.status == TicketStatus.RESOLVED:
        _reopen(session, ticket=ticket, agent=agent, sla=sla)
    if ticket.status == TicketStatus.PENDING_CUSTOMER:
        _resume_clock(ticket, sla)
    if status == TicketStatus.PENDING_CUSTOMER:
        ticket.paused_at = utc_now()
        session.add(Delivery(ticket=ticket, kind=DeliveryKind.WAITING_ON_CUSTOMER))
    if status == TicketStatus.RESOLVED:
        ticket.resolved_at = utc_now()
        settle_durations(ticket, sla)
        session.add(Delivery(ticket=ticket, kind=DeliveryKind.RESOLVED))
        if ticket.assignee is None:
            ticket.assignee = agent
    ticket.status = status
    record_event(session, ticket=ticket, text=f"{STATUS_EVENTS[status]} by {agent.name}")


def settle_durations(ticket: Ticket, sla: Policy | None) -> None:
    """How long the first response and the resolution took, from the ticket's moments:
    wall-clock, and in the open time of its team's calendar when ``sla`` is given."""
    for moment, wall, business in (
        ("first_agent_response_at", "first_response_seconds", "first_response_business_seconds"),
        ("resolved_at", "resolution_seconds", "resolution_business_seconds"),
    ):
        until = getattr(ticket, moment)
        if until is None:
            continue
        setattr(ticket, wall, (until - ticket.escalated_at).total_seconds())
        if sla is not None:
            calendar = sla.calendar_for(ticket.team)
            setattr(
                ticket,
                business,
                calendar.open_time_between(ticket.escalated_at, until).total_seconds(),
            )


def _reopen(session: Session, *, ticket: Ticket, agent: Agent, sla: Policy | None) -> None:
    """A resolved ticket taken up again: the conversation is the agents' once more (the bot
    goes quiet) and the customer hears so. Not while the conversation has another ticket a
    person owns: one conversation, one handoff."""
    other = handoff_ticket(session, conversation_id=ticket.conversation_id)
    if other is not None:
        raise TicketStateError(
            f"ticket #{ticket.id} cannot be reopened: its conversation is in ticket #{other.id}"
        )
    ticket.resolved_at = None
    ticket.resolution_seconds = ticket.resolution_business_seconds = None
    ticket.assignee = ticket.assignee or agent
    session.add(Delivery(ticket=ticket, kind=DeliveryKind.REOPENED))
    if sla is not None:  # the resolution target runs again from now
        again = sla.deadlines(utc_now(), ticket.priority, ticket.category)
        ticket.resolution_due_at, ticket.resolution_warn_at = (
            again.resolution_due_at,
            again.resolution_warn_at,
        )


def change_priority(
    session: Session, *, ticket: Ticket, agent: Agent, priority: Priority, sla: Policy
) -> None:
    """A new priority and the due times of its targets, counted from the escalation (an
    urgent ticket is due as if it had been urgent from the start)."""
    if ticket.status not in HANDOFF_STATUSES:
        raise TicketStateError(f"ticket #{ticket.id} is {ticket.status.value}: it has no clock")
    if priority == ticket.priority:
        return
    record_event(
        session,
        ticket=ticket,
        text=f"Priority {ticket.priority.value} → {priority.value} by {agent.name}",
    )
    ticket.priority = priority
    for name, value in asdict(
        sla.deadlines(ticket.escalated_at, priority, ticket.category)
    ).items():
        setattr(ticket, name, value)


def _pick_up(session: Session, *, ticket: Ticket, agent: Agent) -> None:
    """The first time a person takes the ticket: it opens and the customer is told."""
    if ticket.status != TicketStatus.WAITING_FOR_AGENT:
        return
    ticket.status = TicketStatus.OPEN
    ticket.assignee = agent  # whoever takes it (routing may have suggested someone else)
    session.add(Delivery(ticket=ticket, kind=DeliveryKind.PICKED_UP))
    record_event(session, ticket=ticket, text=f"Picked up by {agent.name}")


#: How the transcript tells a status change an agent made.
STATUS_EVENTS = {
    TicketStatus.WAITING_FOR_AGENT: "Back in the queue",
    TicketStatus.OPEN: "Reopened",
    TicketStatus.PENDING_CUSTOMER: "Waiting for the customer",
    TicketStatus.RESOLVED: "Resolved",
    TicketStatus.CLOSED: "Closed",
}


def record_event(session: Session, *, ticket: Ticket, text: str) -> None:
    """A system line in the transcript (and the log): what happened to the ticket, and when."""
    logger.info("ticket #%s: %s", ticket.id, text)
    session.add(
        TranscriptMessage(ticket=ticket, author=Author.SYSTEM, text=text, sent_at=utc_now())
    )


def get_ticket(session: Session, *, ticket_id: int) -> Ticket:
    """The ticket, or :class:`NotFoundError` (a 404 at the API)."""
    ticket = ticket_by_id(session, ticket_id=ticket_id)
    if ticket is None:
        raise NotFoundError(f"No ticket #{ticket_id}.")
    return ticket


def get_agent(session: Session, *, agent_id: int) -> Agent:
    """The agent, or :class:`NotFoundError` (a 404 at the API)."""
    agent = session.get(Agent, agent_id)
    if agent is None:
        raise NotFoundError(f"No agent #{agent_id}.")
    return agent


# The bot's side, one transaction each.


def hand_off(
    sessions: sessionmaker[Session], escalation: Escalation, routing: RoutingIn | None = None
) -> int:
    """The id of the conversation's open ticket if it has one, else of a new ticket (once
    per escalation key), routed to an agent when ``routing`` is given."""
    with session_scope(sessions) as session:
        ticket = handoff_ticket(session, conversation_id=escalation.conversation_id)
        if ticket is None:
            ticket, created = create_ticket_once(session, escalation=escalation)
            if created and routing is not None:
                session.flush()
                note = route(session, ticket=ticket, routing=routing)
                if note:
                    record_event(session, ticket=ticket, text=note)
        session.flush()
        return ticket.id


def relay_customer_messages(
    sessions: sessionmaker[Session],
    *,
    conversation_id: str,
    messages: Sequence[TranscriptLine],
    since_escalation: bool = False,
    sla: Policy | None = None,
) -> int | None:
    """Add the customer's messages to the ticket a person owns; the ticket's id, or None
    when no person owns the conversation any more (the bot answers instead). A ticket that
    waited on the customer goes back to the agents, its clock moved on by ``sla``.

    At least once, exactly once in effect: a relay passes every message since the handoff
    began, those an earlier relay missed too (the action server or Rasa died on the way),
    and keys leave out the ones added already. ``since_escalation`` keeps only messages
    from about the ticket's escalation on, for a conversation that lost the moment its
    handoff began; earlier ones are in the transcript already.
    """
    with session_scope(sessions) as session:
        ticket = handoff_ticket(session, conversation_id=conversation_id)
        if ticket is None:
            return None
        since = ticket.escalated_at - CLOCK_MARGIN if since_escalation else None
        for message in sorted(messages, key=lambda line: line.sent_at):
            if (since is None or message.sent_at >= since) and message.source_key:
                append_customer_message(
                    session,
                    ticket=ticket,
                    text=message.text,
                    sent_at=message.sent_at,
                    source_key=message.source_key,
                    sla=sla,
                )
        return ticket.id


@dataclass(frozen=True)
class Handoff:
    """A ticket a person owns, and the key of the escalation that made it."""

    ticket_id: int
    escalation_key: str


def current_handoff(sessions: sessionmaker[Session], *, conversation_id: str) -> Handoff | None:
    """The ticket a person owns in the conversation, if any: the database, not a slot, is
    what says whether the bot must stay quiet."""
    with session_scope(sessions) as session:
        ticket = handoff_ticket(session, conversation_id=conversation_id)
        return Handoff(ticket.id, ticket.escalation_key) if ticket is not None else None


def status_for_customer(
    sessions: sessionmaker[Session], *, ticket_id: int, conversation_id: str
) -> TicketStatus | None:
    """The ticket's status, only for its own conversation: someone else's ticket looks
    exactly like a missing one."""
    with session_scope(sessions) as session:
        ticket = ticket_by_id(session, ticket_id=ticket_id)
        if ticket is None or ticket.conversation_id != conversation_id:
            return None
        return ticket.status


def ticket_ids_of(sessions: sessionmaker[Session], *, conversation_id: str) -> set[int]:
    """The ids of every ticket the conversation ever had (the numbers it may ask about)."""
    with session_scope(sessions) as session:
        query = select(Ticket.id).where(Ticket.conversation_id == conversation_id)
        return set(session.scalars(query))
