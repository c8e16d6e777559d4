"""The live handoff, seen from the bot: relay the customer to the ticket, say what agents
queued, answer "what is the status of my ticket?"."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import CSAT, ask, latest_customer_message, sent_at
from actions.runtime import get_ticket_sessions
from escalation import crud
from escalation.db import session_scope
from escalation.models import DeliveryKind

logger = logging.getLogger(__name__)

#: The ticket number in "status of ticket #123?", "статус заявки 5".
TICKET_NUMBER = re.compile(r"\b(\d{1,9})\b")


class ActionRelayToAgent(Action):
    """A person owns the conversation: add the customer's message to the ticket, say nothing.

    Chosen by HandoffPolicy (bot/policies/handoff.py) for every message while `handoff` is set.
    """

    def name(self) -> str:
        return "action_relay_to_agent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        event = latest_customer_message(tracker)
        if event is None:
            return []
        try:
            ticket_id = await asyncio.to_thread(_relay, tracker.sender_id, event)
        except Exception:
            logger.exception("relaying a message of %s failed", tracker.sender_id)
            dispatcher.utter_message(response="utter_technical_problem")
            return []
        if ticket_id is None:
            # The ticket was closed while the hand-back was on its way: the bot answers.
            return [SlotSet("handoff", False), FollowupAction("action_answer_faq")]
        return []


def _relay(conversation_id: str, event: dict[str, Any]) -> int | None:
    with session_scope(get_ticket_sessions()) as session:
        ticket = crud.handoff_ticket(session, conversation_id=conversation_id)
        if ticket is None:
            return None
        crud.append_customer_message(
            session,
            ticket=ticket,
            text=str(event.get("text") or ""),
            sent_at=sent_at(event),
            source_key=str(event.get("message_id") or event.get("timestamp")),
        )
        return ticket.id


@dataclass(frozen=True)
class _Claimed:
    kind: DeliveryKind
    ticket_id: int
    text: str | None
    agent_name: str | None


class ActionDeliver(Action):
    """Say one queued delivery (agent reply, pick-up, resolution) exactly once."""

    def name(self) -> str:
        return "action_deliver"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        delivery_id = str(next(tracker.get_latest_entity_values("delivery_id"), ""))
        if not delivery_id.isdigit() or len(delivery_id) > 9:  # a forged payload
            return []
        claimed = await asyncio.to_thread(_claim, int(delivery_id), tracker.sender_id)
        if claimed is None:  # said already (a retried delivery), or not this conversation's
            return []
        if claimed.kind == DeliveryKind.AGENT_REPLY:
            dispatcher.utter_message(text=claimed.text)
            return []
        if claimed.kind == DeliveryKind.PICKED_UP:
            dispatcher.utter_message(
                response="utter_agent_joined",
                agent_name=claimed.agent_name,
                ticket_id=claimed.ticket_id,
            )
            return []
        dispatcher.utter_message(response="utter_ticket_resolved", ticket_id=claimed.ticket_id)
        dispatcher.utter_message(response="utter_ask_csat")
        return [
            SlotSet("handoff", False),
            SlotSet("tried_entries", []),
            SlotSet("failed_turns", 0),
            ask(tracker, CSAT, ticket_id=claimed.ticket_id),
        ]


def _claim(delivery_id: int, conversation_id: str) -> _Claimed | None:
    with session_scope(get_ticket_sessions()) as session:
        delivery = crud.claim_delivery(
            session, delivery_id=delivery_id, conversation_id=conversation_id
        )
        if delivery is None:
            return None
        assignee = delivery.ticket.assignee
        return _Claimed(
            kind=delivery.kind,
            ticket_id=delivery.ticket_id,
            text=delivery.message.text if delivery.message else None,
            agent_name=assignee.name.split()[0] if assignee else None,
        )


class ActionTicketStatus(Action):
    """Tell the customer where their ticket stands; only tickets of this conversation."""

    def name(self) -> str:
        return "action_ticket_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        asked_for = TICKET_NUMBER.search(tracker.latest_message.get("text") or "")
        ticket_id = asked_for.group(1) if asked_for else tracker.get_slot("ticket_id")
        if not ticket_id:
            dispatcher.utter_message(response="utter_no_ticket")
            return []
        status = await asyncio.to_thread(_status_of, int(ticket_id), tracker.sender_id)
        response = f"utter_ticket_status_{status}" if status else "utter_ticket_not_found"
        dispatcher.utter_message(response=response, ticket_id=int(ticket_id))
        return []


def _status_of(ticket_id: int, conversation_id: str) -> str | None:
    with session_scope(get_ticket_sessions()) as session:
        ticket = crud.ticket_by_id(session, ticket_id=ticket_id)
        if ticket is None or ticket.conversation_id != conversation_id:
            return None  # someone else's ticket looks exactly like a missing one
        return ticket.status.value
