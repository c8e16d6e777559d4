"""The handoff actions on recorded trackers against a real ticket database (no servers):
escalating, relaying the customer, saying queued deliveries once, ticket status."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from actions.conversation import escalation_key
from actions.escalation import transcript_of
from actions.handoff import ActionDeliver, ActionRelayToAgent, ActionTicketStatus
from actions.language import ActionDetectLanguage
from actions.request_person import ActionEscalate
from actions.state import Question
from core.settings import get_settings
from escalation import outbox, tickets
from escalation.auth import create_agent
from escalation.db import session_scope
from escalation.models import Agent, Author, Ticket, TicketStatus, TranscriptMessage
from escalation.notices import queue_delay_notices
from escalation.sla import WEEKDAYS
from knowledge import KnowledgeBase
from tests.actions.trackers import bot, responses, run, slot_events, tracker, user
from tests.conftest import sla_file

CONVERSATION = [
    user("where is my parcel?"),
    bot("I'm not sure."),
    user("a person please", "request_human", timestamp=2.0),
]
#: What action_escalate's answer leaves in the tracker: the handoff begins here.
HANDED_OVER = {"event": "slot", "name": "handoff", "value": True, "timestamp": 2.1}


def escalate(sessions: sessionmaker[Session], sender_id: str = "conv") -> int:
    said, events = run(ActionEscalate(), tracker(CONVERSATION, sender_id=sender_id, language="en"))
    assert responses(said) == ["utter_ticket_created"]
    return int(slot_events(events)["ticket_id"])


def test_escalating_makes_one_ticket_with_the_transcript_even_when_retried(
    ticket_sessions: sessionmaker[Session],
) -> None:
    first = escalate(ticket_sessions)
    assert escalate(ticket_sessions) == first  # a retried action: the same ticket
    with session_scope(ticket_sessions) as session:
        assert session.scalar(select(Ticket.id)) == first
        ticket = tickets.ticket_with_transcript(session, ticket_id=first)
        assert ticket is not None
        assert [(m.author, m.text) for m in ticket.messages] == [
            (Author.CUSTOMER, "where is my parcel?"),
            (Author.BOT, "I'm not sure."),
            (Author.CUSTOMER, "a person please"),
            (Author.SYSTEM, "Handed to a person (customer request)"),
        ]
        assert (ticket.reason, ticket.language, ticket.channel) == (
            "customer_request",
            "en",
            "socketio",
        )


def test_escalating_hands_the_conversation_over(ticket_sessions: sessionmaker[Session]) -> None:
    _, events = run(ActionEscalate(), tracker(CONVERSATION, failed_turns=1))
    slots = slot_events(events)
    assert slots["handoff"] is True and slots["awaiting"] is None and slots["failed_turns"] == 0


def test_during_the_handoff_messages_go_to_the_ticket_once_and_the_bot_is_quiet(
    ticket_sessions: sessionmaker[Session],
) -> None:
    ticket_id = escalate(ticket_sessions)
    message = user("it was due on Monday", message_id="m-42", timestamp=3.0)
    during = tracker([*CONVERSATION, HANDED_OVER, message], handoff=True)
    for _ in range(2):  # Rasa retries an action call that timed out
        said, events = run(ActionRelayToAgent(), during)
        assert said.messages == [] and events == []
    with session_scope(ticket_sessions) as session:
        texts = session.scalars(
            select(TranscriptMessage.text).where(TranscriptMessage.ticket_id == ticket_id)
        ).all()
    assert texts.count("it was due on Monday") == 1


def customer_texts(sessions: sessionmaker[Session], ticket_id: int) -> list[str]:
    with session_scope(sessions) as session:
        query = select(TranscriptMessage.text).where(
            TranscriptMessage.ticket_id == ticket_id, TranscriptMessage.author == Author.CUSTOMER
        )
        return list(session.scalars(query.order_by(TranscriptMessage.id)))


def test_a_relay_catches_up_on_messages_an_earlier_relay_missed(
    ticket_sessions: sessionmaker[Session],
) -> None:
    """The action server was down for one message: Rasa kept it, the next relay brings it."""
    ticket_id = escalate(ticket_sessions)
    missed = user("are you there?", timestamp=3.0)
    failed = {"event": "action", "name": "action_relay_to_agent", "timestamp": 3.1}
    latest = user("my order is 48213", timestamp=4.0)
    for _ in range(2):
        said, events = run(
            ActionRelayToAgent(),
            tracker([*CONVERSATION, HANDED_OVER, missed, failed, latest], handoff=True),
        )
        assert said.messages == [] and events == []
    assert customer_texts(ticket_sessions, ticket_id) == [
        "where is my parcel?",
        "a person please",
        "are you there?",
        "my order is 48213",
    ]


def test_a_message_the_client_sent_again_with_its_own_id_is_on_the_ticket_once(
    ticket_sessions: sessionmaker[Session],
) -> None:
    """A REST client got no answer (Rasa died after storing the message) and sent it again:
    Rasa gives each copy a new id, the client's id in the metadata is the same."""
    ticket_id = escalate(ticket_sessions)
    copies = [
        {**user("is it shipped?", timestamp=t), "metadata": {"message_id": "client-7"}}
        for t in (3.0, 4.0)
    ]
    run(ActionRelayToAgent(), tracker([*CONVERSATION, HANDED_OVER, *copies], handoff=True))
    assert customer_texts(ticket_sessions, ticket_id).count("is it shipped?") == 1


def test_a_ticket_whose_handoff_slot_was_lost_still_gets_the_customer(
    ticket_sessions: sessionmaker[Session],
) -> None:
    """Rasa died after the ticket was made and before the slot was stored: the next turn
    goes to the ticket (the database decides), and the slot is set again."""
    now = time.time()
    before = [
        user("where is my parcel?", timestamp=now - 5),
        bot("I'm not sure.", timestamp=now - 4),
        user("a person please", "request_human", timestamp=now - 3),
    ]
    said, _ = run(ActionEscalate(), tracker(before, language="en"))  # its slots never stored
    ticket_id = ticket_number_of(said)
    after = [*before, user("hello??", "greet", timestamp=now + 1)]
    _, events = run(ActionDetectLanguage(), tracker(after))
    assert events == [{"event": "followup", "name": "action_relay_to_agent", "timestamp": None}]
    said, events = run(ActionRelayToAgent(), tracker(after))
    assert said.messages == []
    assert slot_events(events) == {"handoff": True, "ticket_id": str(ticket_id)}
    # The messages before the escalation are on the ticket once: the transcript keyed them.
    assert customer_texts(ticket_sessions, ticket_id) == [
        "where is my parcel?",
        "a person please",
        "hello??",
    ]


def test_the_message_that_made_the_ticket_sent_again_gets_the_ticket_s_number(
    ticket_sessions: sessionmaker[Session],
) -> None:
    """Rasa died after the ticket was made and before it stored the turn: the customer never
    heard of the ticket and sends the same message again (the client's id is the same, Rasa's
    new). That turn runs again and says the same ticket's number; it is not relayed."""
    now = time.time()
    before = [user("where is my parcel?", timestamp=now - 5), bot("I'm not sure.", now - 4)]
    asked = {**user("a person please", "request_human", timestamp=now - 3)}
    asked["metadata"] = {"message_id": "client-9"}
    said, _ = run(ActionEscalate(), tracker([*before, asked], language="en"))  # never stored
    ticket_id = ticket_number_of(said)
    again = {**asked, "message_id": "rasa-new", "timestamp": now + 1}
    _, events = run(ActionDetectLanguage(), tracker([*before, again]))
    assert "followup" not in [event["event"] for event in events]
    said, events = run(ActionEscalate(), tracker([*before, again], language="en"))
    assert ticket_number_of(said) == ticket_id
    assert slot_events(events)["handoff"] is True
    with session_scope(ticket_sessions) as session:
        assert list(session.scalars(select(Ticket.id))) == [ticket_id]
    # Another message, not the one that made the ticket, goes to the ticket as before.
    other = {**user("hello??", "greet", timestamp=now + 2), "metadata": {"message_id": "client-10"}}
    _, events = run(ActionDetectLanguage(), tracker([*before, asked, other]))
    assert events == [{"event": "followup", "name": "action_relay_to_agent", "timestamp": None}]


def test_an_escalation_key_fits_the_ticket_s_column_and_differs_per_message() -> None:
    long_sender = "u" * 100 + "." + "s" * 43  # a site's longest user id, signed
    keys = {
        escalation_key(
            tracker(
                [{**user("a person"), "metadata": {"message_id": message_id * 100}}],
                sender_id=long_sender,
            )
        )
        for message_id in "ab"
    }
    assert len(keys) == 2
    assert all(len(key) <= 200 for key in keys)


def test_without_a_ticket_the_language_check_lets_the_bot_answer(
    ticket_sessions: sessionmaker[Session], faq: KnowledgeBase
) -> None:
    _, events = run(ActionDetectLanguage(), tracker([user("hello there", "greet")]))
    assert slot_events(events)["language"] == "en"


def ticket_number_of(said: CollectingDispatcher) -> int:
    [message] = said.messages
    return int(message["ticket_id"])


def test_a_message_after_the_ticket_closed_goes_back_to_the_bot(
    ticket_sessions: sessionmaker[Session],
) -> None:
    said, events = run(ActionRelayToAgent(), tracker([user("hello?")], handoff=True))
    assert said.messages == []
    assert slot_events(events) == {"handoff": False}
    assert {"event": "followup", "name": "action_answer_faq", "timestamp": None} in events


def deliver(
    delivery_id: object, sender_id: str = "conv", channel: str = "socketio", **slots: Any
) -> tuple[list[str], list[dict[str, Any]]]:
    said, events = deliver_said(delivery_id, sender_id, channel, **slots)
    return responses(said), events


def deliver_said(
    delivery_id: object, sender_id: str = "conv", channel: str = "socketio", **slots: Any
) -> tuple[CollectingDispatcher, list[dict[str, Any]]]:
    slots.setdefault("handoff", True)
    entities = [{"entity": "delivery_id", "value": str(delivery_id)}]
    triggered = user(
        "EXTERNAL: delivery",
        "EXTERNAL_delivery",
        entities=entities,
        timestamp=9.0,
        channel=channel,
    )
    during = tracker([*CONVERSATION, HANDED_OVER, triggered], sender_id=sender_id, **slots)
    return run(ActionDeliver(), during)


def test_an_agent_reply_is_said_once_and_only_in_its_conversation(
    ticket_sessions: sessionmaker[Session],
) -> None:
    ticket_id = escalate(ticket_sessions)
    with session_scope(ticket_sessions) as session:
        agent = create_agent(
            session, email="anna@example.com", name="Anna Berg", password="long enough secret"
        )
        ticket = tickets.get_ticket(session, ticket_id=ticket_id)
        tickets.add_reply(session, ticket=ticket, agent=agent, text="It ships today.")
        queued = [row.id for row in outbox.pending_deliveries(session)]
    picked_up, reply = queued
    assert deliver(reply, sender_id="someone-else") == ([], [])
    said_first, events = deliver(picked_up)
    assert said_first == ["utter_agent_joined"]
    assert slot_events(events) == {"last_delivery_id": picked_up}
    said, events = deliver_said(reply, last_delivery_id=picked_up)
    assert [m["custom"] for m in said.messages] == [
        {"data": {"text": "It ships today.", "agent": "Anna"}}  # the widget names the agent
    ]
    # Triggered again (the worker never heard back): the conversation shows it was said.
    assert deliver(reply, last_delivery_id=reply) == ([], [])
    outbox.delivered(ticket_sessions, delivery_id=reply)
    assert deliver(reply) == ([], [])  # marked delivered: never said again
    assert deliver("1 OR 1=1") == ([], [])


def test_a_delivery_puts_back_a_handoff_the_conversation_lost(
    ticket_sessions: sessionmaker[Session],
) -> None:
    """The slot was never stored (Rasa died after the ticket): the agent's reply sets it again."""
    ticket_id = escalate(ticket_sessions)
    with session_scope(ticket_sessions) as session:
        agent = create_agent(
            session, email="c@example.com", name="Cy", password="long enough secret"
        )
        ticket = tickets.get_ticket(session, ticket_id=ticket_id)
        tickets.add_reply(session, ticket=ticket, agent=agent, text="Hello?")
        picked_up = min(row.id for row in outbox.pending_deliveries(session))
    entities = [{"entity": "delivery_id", "value": str(picked_up)}]
    triggered = user("EXTERNAL: delivery", "EXTERNAL_delivery", entities=entities, timestamp=9.0)
    _, events = run(ActionDeliver(), tracker([*CONVERSATION, triggered]))
    assert slot_events(events) == {
        "handoff": True,
        "ticket_id": str(ticket_id),
        "last_delivery_id": picked_up,
    }


def test_an_agent_reply_is_plain_text_outside_the_widget(
    ticket_sessions: sessionmaker[Session],
) -> None:
    ticket_id = escalate(ticket_sessions)
    with session_scope(ticket_sessions) as session:
        agent = create_agent(
            session, email="b@example.com", name="Ben", password="long enough secret"
        )
        ticket = tickets.get_ticket(session, ticket_id=ticket_id)
        tickets.add_reply(session, ticket=ticket, agent=agent, text="On its way.")
        *_, reply = [row.id for row in outbox.pending_deliveries(session)]
    said, _ = deliver_said(reply, channel="rest")
    assert [(m["text"], m["custom"]) for m in said.messages] == [("On its way.", {})]


def test_the_resolution_hands_back_and_asks_for_a_rating(
    ticket_sessions: sessionmaker[Session],
) -> None:
    ticket_id = escalate(ticket_sessions)
    with session_scope(ticket_sessions) as session:
        agent = create_agent(
            session, email="ben@example.com", name="Ben", password="long enough secret"
        )
        ticket = tickets.get_ticket(session, ticket_id=ticket_id)
        tickets.change_status(session, ticket=ticket, agent=agent, status=TicketStatus.RESOLVED)
        [resolution] = [row.id for row in outbox.pending_deliveries(session)]
    said, events = deliver(resolution)
    assert said == ["utter_ticket_resolved", "utter_ask_csat"]
    slots = slot_events(events)
    assert slots["handoff"] is False and slots["tried_entries"] == []
    assert slots["last_delivery_id"] == resolution
    assert slots["awaiting"]["kind"] == Question.CSAT
    assert slots["awaiting"]["ticket_id"] == ticket_id


def test_a_reopened_ticket_takes_the_conversation_back_from_the_bot(
    ticket_sessions: sessionmaker[Session],
) -> None:
    ticket_id = escalate(ticket_sessions)
    with session_scope(ticket_sessions) as session:
        agent = create_agent(
            session, email="ben@example.com", name="Ben", password="long enough secret"
        )
        ticket = tickets.get_ticket(session, ticket_id=ticket_id)
        tickets.change_status(session, ticket=ticket, agent=agent, status=TicketStatus.RESOLVED)
        tickets.change_status(session, ticket=ticket, agent=agent, status=TicketStatus.OPEN)
        *_, reopened = [row.id for row in outbox.pending_deliveries(session)]
    said, events = deliver(reopened)
    assert said == ["utter_ticket_reopened"]
    slots = slot_events(events)
    assert slots["handoff"] is True and slots["ticket_id"] == str(ticket_id)
    assert slots["awaiting"] is None  # a rating asked at resolution is no longer the question


def test_a_late_first_answer_is_announced_once_in_the_customer_s_language(
    ticket_sessions: sessionmaker[Session], settings_env: Path
) -> None:
    ticket_id = escalate(ticket_sessions)
    # settings_env's policy is open all day: a 4 h first-response target, due soon past 80 %
    three_and_a_half_hours = datetime.now(UTC) + timedelta(hours=3, minutes=30)  # past 80 %
    assert queue_delay_notices(ticket_sessions, datetime.now(UTC)) == 0  # not late yet
    assert queue_delay_notices(ticket_sessions, three_and_a_half_hours) == 1
    assert queue_delay_notices(ticket_sessions, three_and_a_half_hours) == 0  # once
    with session_scope(ticket_sessions) as session:
        [notice] = [row.id for row in outbox.pending_deliveries(session)]
    said, events = deliver(notice)
    assert said == ["utter_delay_notice"]
    assert slot_events(events) == {"last_delivery_id": notice}  # still with a person
    with session_scope(ticket_sessions) as session:
        ticket = tickets.get_ticket(session, ticket_id=ticket_id)
        assert ticket.delay_notice_at is not None


def test_ticket_status_only_for_the_conversation_s_own_tickets(
    ticket_sessions: sessionmaker[Session],
) -> None:
    mine = escalate(ticket_sessions, sender_id="conv")
    theirs = escalate(ticket_sessions, sender_id="other")

    def status(text: str, **slots: Any) -> list[str]:
        said, _ = run(ActionTicketStatus(), tracker([user(text, "ticket_status")], **slots))
        return responses(said)

    assert status("status of my ticket?", ticket_id=str(mine)) == [
        "utter_ticket_status_waiting_for_agent"
    ]
    assert status(f"what about ticket #{theirs}?") == ["utter_ticket_not_found"]
    assert status("status of my ticket?") == ["utter_no_ticket"]
    with session_scope(ticket_sessions) as session:
        assert session.scalar(select(Agent.id)) is None  # nobody was made along the way


def test_the_transcript_shows_what_the_customer_saw_and_clicked() -> None:
    payload = '/faq{"faq_entry": "refund-time"}'
    buttons = [{"title": "How long does a refund take?", "payload": payload}]
    events = [
        user("/greet", "greet", timestamp=1.0),  # the widget's opening: never seen
        bot("Hi! How can I help?", timestamp=1.1),
        user("money back", timestamp=2.0),
        {**bot("Which one did you mean?", timestamp=2.1), "data": {"buttons": buttons}},
        user(payload, timestamp=3.0),
        user('/faq{"faq_entry": "warranty"}', timestamp=4.0),  # typed, no such button
    ]
    lines = [(line.author, line.text) for line in transcript_of(events)]
    assert lines == [
        (Author.BOT, "Hi! How can I help?"),
        (Author.CUSTOMER, "money back"),
        (Author.BOT, "Which one did you mean?"),
        (Author.CUSTOMER, "How long does a refund take?"),
    ]


def test_the_order_number_the_customer_gave_goes_into_the_ticket(
    ticket_sessions: sessionmaker[Session],
) -> None:
    events = [
        user("my order #48213 never came"),
        user("a person please", "request_human", timestamp=2.0),
    ]
    said, _ = run(ActionEscalate(), tracker(events, order_number="48213", language="en"))
    assert responses(said) == ["utter_ticket_created"]
    said, events_set = run(
        ActionEscalate(),
        tracker([user("a person please, order 77123 is lost", "request_human")], sender_id="two"),
    )
    assert slot_events(events_set)["order_number"] == "77123"
    with session_scope(ticket_sessions) as session:
        numbers = session.scalars(select(Ticket.order_number).order_by(Ticket.id)).all()
    assert numbers == ["48213", "77123"]


def test_an_escalation_while_nobody_is_there_says_when_a_person_will_be(
    ticket_sessions: sessionmaker[Session], settings_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Open one hour a week, two days from now: the customer hears that day, in Dutch, and
    the ticket's first response is due an SLA-target's worth of open time after it."""
    opening_day = datetime.now(ZoneInfo("Europe/Amsterdam")).date() + timedelta(days=2)
    weekday = WEEKDAYS[opening_day.weekday()]
    policy = sla_file(settings_env / "closed.yml")
    policy.write_text(
        policy.read_text().split("  hours:")[0]
        + f"  hours:\n    {weekday}: ['09:00-10:00']\n"
        + "targets:"
        + policy.read_text().split("targets:")[1]
    )
    monkeypatch.setenv("HELPDESK_SLA_PATH", str(policy))
    get_settings.cache_clear()

    dispatcher, events = run(ActionEscalate(), tracker(CONVERSATION, language="nl"))
    assert responses(dispatcher) == ["utter_ticket_created", "utter_back_at"]
    back_at = dispatcher.messages[1]["back_at"]
    assert format_date(opening_day, "d MMMM", locale="nl") in back_at
    assert "09:00" in back_at and "Midden-Europese" in back_at
    with session_scope(ticket_sessions) as session:
        ticket = session.get(Ticket, int(slot_events(events)["ticket_id"]))
        assert ticket is not None and ticket.first_response_due_at is not None
        local_due = ticket.first_response_due_at.astimezone(ZoneInfo("Europe/Amsterdam"))
        assert local_due.date() > opening_day  # 4 h of a one-hour week: weeks later


def test_the_ticket_gathers_what_the_bot_tried_from_each_turn(
    ticket_sessions: sessionmaker[Session],
) -> None:
    """Each FAQ turn sets only its own attempt (actions/faq.py); the ticket gets them all, in
    order, since the last handoff ended, and not twice the one a new session carries over."""

    def attempt(question: str, timestamp: float) -> dict[str, Any]:
        value: list[dict[str, Any]] = [{"question": question, "answered_with": None, "hits": []}]
        return {"event": "slot", "name": "tried_entries", "value": value, "timestamp": timestamp}

    events = [
        user("first, before an earlier handoff", timestamp=1.0),
        attempt("first, before an earlier handoff", 1.1),
        {"event": "slot", "name": "tried_entries", "value": [], "timestamp": 1.5},  # it ended
        user("where is my parcel?", timestamp=2.0),
        attempt("where is my parcel?", 2.1),
        {"event": "session_started", "timestamp": 3.0},
        attempt("where is my parcel?", 3.0),  # carried over into the new session
        user("it is still not here", timestamp=4.0),
        attempt("it is still not here", 4.1),
        user("a person please", "request_human", timestamp=5.0),
    ]
    run(ActionEscalate(), tracker(events, language="en"))
    with session_scope(ticket_sessions) as session:
        ticket = session.scalars(select(Ticket)).one()
        assert [attempt["question"] for attempt in ticket.tried_entries] == [
            "where is my parcel?",
            "it is still not here",
        ]
