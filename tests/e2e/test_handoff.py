"""Escalation and live handoff through the real Rasa server, action server and API.

The customer talks on socket.io (what the widget uses) or REST; the agent uses the API.
"""

from __future__ import annotations

import json
import time
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.settings import Settings
from escalation import tickets
from escalation.db import session_scope
from escalation.models import Delivery, Ticket
from escalation.tickets import Escalation
from helpdesk.supervisor import ManagedProcess, ProcessGroup
from tests.e2e.clients import SocketCustomer, eventually, new_sender, ticket_number

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

T = TypeVar("T")
#: What Rasa says itself while the action server is away (bot/launcher.py, domain.yml).
ONE_MOMENT = (
    "One moment please: I'm having a short technical hiccup. Please write again in a minute."
)


def transcript(agent: httpx.Client, ticket_id: int) -> list[tuple[str, str]]:
    ticket = agent.get(f"/api/tickets/{ticket_id}").json()
    return [(m["author"], m["text"]) for m in ticket["messages"]]


def rest_say(
    stack: Settings, sender: str, message: str, message_id: str | None = None
) -> list[dict[str, Any]]:
    """What the bot said back; ``message_id``: the client's own id of the message."""
    metadata = {"metadata": {"message_id": message_id}} if message_id else {}
    response = httpx.post(
        f"http://{stack.host}:{stack.rasa_port}/webhooks/rest/webhook",
        json={"sender": sender, "message": message, **metadata},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    replies: list[dict[str, Any]] = response.json()
    return replies


def texts(replies: list[dict[str, Any]]) -> list[str]:
    return [reply.get("text") or "" for reply in replies]


def test_failed_twice_then_agent_answers_on_socketio_and_bot_collects_csat(
    running_stack: Settings, agent: httpx.Client
) -> None:
    customer = SocketCustomer(
        f"http://{running_stack.host}:{running_stack.rasa_port}", ["websocket"]
    )
    try:
        sid = customer.start_session()
        assert "not sure" in customer.say("what is the weather on mars", sid)["text"]
        offer = customer.say("who won the football match yesterday", sid)
        assert "Shall I pass our conversation to a person?" in offer["text"]
        assert [b["payload"] for b in offer["quick_replies"]] == ["/affirm", "/deny"]
        created = customer.say("yes", sid)["text"]
        assert "Your ticket is #" in created
        ticket_id = ticket_number(created)

        queue = agent.get("/api/tickets", params={"status": "waiting_for_agent"}).json()
        assert ticket_id in [t["id"] for t in queue]
        ticket = agent.get(f"/api/tickets/{ticket_id}").json()
        assert ticket["reason"] == "bot_could_not_answer"
        assert (ticket["channel"], ticket["language"]) == ("socketio", "en")
        assert [t["question"] for t in ticket["tried_entries"]] == [
            "what is the weather on mars",
            "who won the football match yesterday",
        ]
        assert [author for author, _ in transcript(agent, ticket_id)] == [
            "customer", "bot", "customer", "bot", "customer", "system",
        ]  # fmt: skip

        # While the ticket waits, the customer's words go to the ticket, not to the bot.
        customer.send("hello? is anyone there?", sid)
        eventually(lambda: ("customer", "hello? is anyone there?") in transcript(agent, ticket_id))

        reply = agent.post(
            f"/api/tickets/{ticket_id}/replies", json={"text": "Hi, Anna here. Let me look."}
        )
        assert reply.status_code == 201
        # Exactly two messages: the bot said nothing of its own in between.
        said = customer.messages_until("Let me look.")
        assert [m["text"] for m in said] == [
            f"Anna from our team has picked up your ticket #{ticket_id}.",
            "Hi, Anna here. Let me look.",
        ]
        assert said[-1]["agent"] == "Anna"  # the widget shows who wrote it

        resolved = agent.post(f"/api/tickets/{ticket_id}/status", json={"status": "resolved"})
        assert resolved.status_code == 200
        said_after = customer.messages_until("How satisfied")
        assert f"Your ticket #{ticket_id} has been resolved." in said_after[0]["text"]
        assert [b["title"] for b in said_after[-1]["quick_replies"]] == ["1", "2", "3", "4", "5"]
        thanks = customer.say('/rate{"rating": "5"}', sid)
        assert thanks["text"] == "Thank you for your rating!"

        # The bot is back.
        assert "working day" in customer.say("how long does delivery take", sid)["text"]
    finally:
        customer.close()

    final = agent.get(f"/api/tickets/{ticket_id}").json()
    assert final["csat"] == 5
    story = [text for author, text in transcript(agent, ticket_id) if author == "system"]
    assert story[0] == "Handed to a person (bot could not answer)"
    assert story[-1] == "Customer rated the help 5/5"
    assert final["status"] == "resolved"
    assert final["escalated_at"] <= final["first_agent_response_at"] <= final["resolved_at"]
    assert ("agent", "Hi, Anna here. Let me look.") in transcript(agent, ticket_id)


def test_rest_customer_reads_agent_replies_from_the_message_endpoint(
    running_stack: Settings, agent: httpx.Client
) -> None:
    sender = new_sender(running_stack)
    created = texts(rest_say(running_stack, sender, "ik wil een medewerker spreken"))
    [notice] = created
    assert notice.startswith("Ik heb ons gesprek aan een medewerker doorgegeven.")
    ticket_id = ticket_number(notice)
    since = time.time()
    assert rest_say(running_stack, sender, "mijn pakket is zoek") == []  # the bot stays quiet

    agent.post(f"/api/tickets/{ticket_id}/replies", json={"text": "Ik zoek het voor je uit."})

    def agent_words() -> list[str]:
        response = agent.get(f"/api/conversations/{sender}/messages", params={"after": since})
        assert response.status_code == 200
        return [m["text"] for m in response.json()]

    said = eventually(lambda: (w := agent_words()) and "Ik zoek het voor je uit." in w and w)
    assert said == [
        f"Anna van ons team heeft je ticket #{ticket_id} opgepakt.",
        "Ik zoek het voor je uit.",
    ]


def test_answer_that_did_not_help_offers_a_person_and_yes_escalates(
    running_stack: Settings, agent: httpx.Client
) -> None:
    sender = new_sender(running_stack)
    answer = texts(rest_say(running_stack, sender, "how long does delivery take"))
    assert answer[-1] == "Did this answer your question?"
    offer = texts(rest_say(running_stack, sender, "/deny"))
    assert offer == [
        "I'm sorry, I couldn't find an answer to that. Shall I pass our conversation to a person?"
    ]
    [created] = texts(rest_say(running_stack, sender, "/affirm"))
    ticket = agent.get(f"/api/tickets/{ticket_number(created)}").json()
    assert ticket["reason"] == "answer_did_not_help"
    assert ticket["tried_entries"][0]["answered_with"] is not None


def test_declining_the_offer_keeps_the_bot_and_makes_no_ticket(
    running_stack: Settings, ticket_db: sessionmaker[Session]
) -> None:
    sender = new_sender(running_stack)
    rest_say(running_stack, sender, "how long does delivery take")
    rest_say(running_stack, sender, "/deny")
    assert texts(rest_say(running_stack, sender, "no")) == [
        "All right. Ask me anything else whenever you like."
    ]
    with session_scope(ticket_db) as session:
        assert session.scalars(select(Ticket).where(Ticket.conversation_id == sender)).all() == []


def test_keyword_rule_offers_a_person_and_sets_category_and_priority(
    running_stack: Settings, agent: httpx.Client
) -> None:
    sender = new_sender(running_stack)
    [offer] = texts(rest_say(running_stack, sender, "Ich wurde zweimal abgebucht!"))
    assert offer.startswith("Das sollte sich ein Mitarbeiter unseres Teams ansehen.")
    [created] = texts(rest_say(running_stack, sender, "ja bitte"))
    ticket = agent.get(f"/api/tickets/{ticket_number(created)}").json()
    assert (ticket["category"], ticket["priority"]) == ("billing", "high")
    assert ticket["reason"] == "keyword_rule:charged twice"
    assert ticket["language"] == "de"


def test_customer_asks_for_ticket_status_and_sees_only_their_own(
    running_stack: Settings, agent: httpx.Client
) -> None:
    owner, stranger = new_sender(running_stack), new_sender(running_stack)
    [created] = texts(rest_say(running_stack, owner, "I want to talk to a human"))
    ticket_id = ticket_number(created)
    agent.post(f"/api/tickets/{ticket_id}/status", json={"status": "resolved"})
    eventually(
        lambda: (
            "How satisfied" in json.dumps(agent.get(f"/api/conversations/{owner}/messages").json())
        )
    )
    [status] = texts(
        rest_say(running_stack, owner, f"what is the status of my ticket #{ticket_id}")
    )
    assert status == f"Ticket #{ticket_id} has been resolved."
    [other] = texts(
        rest_say(running_stack, stranger, f"what is the status of my ticket #{ticket_id}")
    )
    assert other == f"I can't find ticket #{ticket_id} in this conversation."


def test_the_same_escalation_delivered_twice_makes_one_ticket(
    running_stack: Settings, ticket_db: sessionmaker[Session]
) -> None:
    """Rasa retries an action call it thinks failed: the same turn must not make two tickets."""
    sender = f"direct-{time.time_ns()}"
    user_event = {
        "event": "user",
        "timestamp": time.time(),
        "text": "I want a person",
        "message_id": "m-1",
        "input_channel": "rest",
        "parse_data": {"intent": {"name": "request_human", "confidence": 1.0}, "entities": []},
    }
    call = {
        "next_action": "action_escalate",
        "sender_id": sender,
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": sender,
            "slots": {"language": "en", "language_confidence": 0.9},
            "latest_message": {**user_event["parse_data"], "text": "I want a person"},  # type: ignore[dict-item]
            "latest_event_time": user_event["timestamp"],
            "followup_action": None,
            "paused": False,
            "events": [user_event],
            "latest_input_channel": "rest",
            "active_loop": {},
            "latest_action": {"action_name": "action_listen"},
            "latest_action_name": "action_listen",
        },
    }
    url = f"http://{running_stack.host}:{running_stack.action_port}/webhook"
    first, second = (httpx.post(url, json=call, timeout=30) for _ in range(2))
    assert first.status_code == second.status_code == 200
    assert first.json()["responses"] == second.json()["responses"]
    with session_scope(ticket_db) as session:
        made = session.scalars(select(Ticket).where(Ticket.conversation_id == sender)).all()
        assert len(made) == 1


def test_api_crash_between_escalation_and_reply_loses_nothing(
    running_stack: Settings,
    stack_processes: ProcessGroup,
    agent: httpx.Client,
    ticket_db: sessionmaker[Session],
) -> None:
    sender = new_sender(running_stack)
    [created] = texts(rest_say(running_stack, sender, "I want to talk to a human"))
    ticket_id = ticket_number(created)
    since = time.time()
    api = process(stack_processes, "API")

    api.kill()  # mid-flight: escalated, nobody has answered yet
    assert rest_say(running_stack, sender, "are you still there?") == []  # bot quiet, API down
    api.start()
    api.wait_healthy(60)

    reply = agent.post(f"/api/tickets/{ticket_id}/replies", json={"text": "Back, sorry!"})
    assert reply.status_code == 201
    api.kill()  # right after the reply was stored: its delivery may not have happened yet
    api.start()
    api.wait_healthy(60)

    def said() -> list[str]:
        response = agent.get(f"/api/conversations/{sender}/messages", params={"after": since})
        return [m["text"] for m in response.json()] if response.status_code == 200 else []

    eventually(lambda: "Back, sorry!" in said())
    time.sleep(2)  # any duplicate delivery would have had time to arrive
    assert said().count("Back, sorry!") == 1
    assert ("customer", "are you still there?") in transcript(agent, ticket_id)


def process(stack: ProcessGroup, name: str) -> ManagedProcess:
    [found] = [p for p in stack.processes if p.name == name]
    return found


def delivered_at(sessions: sessionmaker[Session], ticket_id: int) -> list[object]:
    with session_scope(sessions) as session:
        query = select(Delivery.delivered_at).where(Delivery.ticket_id == ticket_id)
        return list(session.scalars(query.order_by(Delivery.id)))


def test_action_server_down_during_the_handoff_loses_no_message_and_no_reply(
    running_stack: Settings,
    stack_processes: ProcessGroup,
    agent: httpx.Client,
    ticket_db: sessionmaker[Session],
) -> None:
    """Rasa answers 200 and drops an action's events when the action server is down: the
    customer's message must still reach the ticket, the agent's reply the customer, once."""
    sender = new_sender(running_stack)
    [created] = texts(rest_say(running_stack, sender, "I want to talk to a human"))
    ticket_id = ticket_number(created)
    since = time.time()
    actions = process(stack_processes, "action server")

    actions.kill()
    # Rasa keeps the message but cannot relay it; the customer is not left in silence.
    assert texts(rest_say(running_stack, sender, "the parcel number is 48213")) == [ONE_MOMENT]
    stranger = new_sender(running_stack)
    assert texts(rest_say(running_stack, stranger, "how long does delivery take")) == [ONE_MOMENT]
    reply = agent.post(f"/api/tickets/{ticket_id}/replies", json={"text": "Found it, 1 sec."})
    assert reply.status_code == 201
    time.sleep(3)  # the worker has triggered the reply: Rasa said 200, the slot says not said
    assert delivered_at(ticket_db, ticket_id) == [None, None]  # picked up, the reply
    actions.start()
    actions.wait_healthy(120)

    def said() -> list[str]:
        response = agent.get(f"/api/conversations/{sender}/messages", params={"after": since})
        return [m["text"] for m in response.json()] if response.status_code == 200 else []

    eventually(lambda: "Found it, 1 sec." in said(), timeout=90)
    time.sleep(2)  # any duplicate delivery would have had time to arrive
    assert said().count("Found it, 1 sec.") == 1
    assert all(delivered_at(ticket_db, ticket_id))
    customer_lines = [text for author, text in transcript(agent, ticket_id) if author == "customer"]
    assert customer_lines.count("the parcel number is 48213") == 1


def ticket_rasa_lost(ticket_db: sessionmaker[Session], sender: str, *, turn: str) -> int:
    """A ticket the action server made on ``turn`` of the conversation, as if Rasa had died
    before storing that turn: the conversation does not know of it."""
    escalation = Escalation(
        key=f"{sender}:{turn}",
        conversation_id=sender,
        channel="rest",
        language="en",
        language_confidence=1.0,
        reason="customer_request",
        transcript=[],
    )
    return tickets.hand_off(ticket_db, escalation)


def test_a_handoff_the_conversation_lost_is_found_in_the_ticket_database(
    running_stack: Settings, agent: httpx.Client, ticket_db: sessionmaker[Session]
) -> None:
    """Rasa died after the ticket was committed, before it stored the handoff: the ticket
    exists, the conversation does not know. The next messages go to the ticket anyway."""
    sender = new_sender(running_stack)
    ticket_id = ticket_rasa_lost(ticket_db, sender, turn="lost")
    assert rest_say(running_stack, sender, "hello, anyone?") == []
    assert rest_say(running_stack, sender, "how long does delivery take") == []  # no bot answer
    customer_lines = [text for author, text in transcript(agent, ticket_id) if author == "customer"]
    assert customer_lines == ["hello, anyone?", "how long does delivery take"]


def test_the_message_that_made_a_ticket_rasa_lost_hears_its_number_when_sent_again(
    running_stack: Settings, ticket_db: sessionmaker[Session]
) -> None:
    """Rasa died after the action server made the ticket, before it stored the turn: the
    client got no answer and sends the same message again, with its own id. It hears the
    ticket's number this time (not silence, as a message to a ticket would), and there is
    still one ticket. (tests/e2e/test_replicas.py once caught the silence in CI.)"""
    sender = new_sender(running_stack)
    # The turn's key as actions/conversation.py escalation_key makes it from the client's id.
    ticket_id = ticket_rasa_lost(ticket_db, sender, turn="client:retried-1")
    replies = rest_say(running_stack, sender, "I want to talk to a person", "retried-1")
    assert f"#{ticket_id}" in " ".join(texts(replies))
    with session_scope(ticket_db) as session:
        made = session.scalars(select(Ticket.id).where(Ticket.conversation_id == sender))
        assert list(made) == [ticket_id]
