"""Handing a conversation to a person: a ticket with the whole transcript, created once."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.runtime import get_ticket_sessions
from escalation.crud import Escalation, TranscriptLine, create_ticket_once
from escalation.db import session_scope
from escalation.models import Author

logger = logging.getLogger(__name__)


class ActionEscalate(Action):
    """Create (or find, if this turn already escalated) the ticket and tell the customer its id."""

    def name(self) -> str:
        return "action_escalate"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        escalation = escalation_from(tracker, reason="customer_asked_for_human")
        try:
            ticket_id = await asyncio.to_thread(_create, escalation)
        except Exception:
            logger.exception("escalation failed for conversation %s", tracker.sender_id)
            dispatcher.utter_message(response="utter_technical_problem")
            return []
        dispatcher.utter_message(response="utter_ticket_created", ticket_id=ticket_id)
        return [SlotSet("ticket_id", str(ticket_id))]


def _create(escalation: Escalation) -> int:
    with session_scope(get_ticket_sessions()) as session:
        ticket, _ = create_ticket_once(session, escalation=escalation)
        session.flush()
        return ticket.id


def escalation_from(tracker: Tracker, *, reason: str) -> Escalation:
    """What the tracker knows, as an escalation keyed by the turn that triggered it."""
    user_events = [e for e in tracker.events if e.get("event") == "user"]
    # The triggering message's id: a retried action escalates the same turn again.
    turn = (user_events[-1].get("message_id") if user_events else None) or str(len(user_events))
    confidence = tracker.get_slot("language_confidence")
    return Escalation(
        key=f"{tracker.sender_id}:{turn}",
        conversation_id=tracker.sender_id,
        channel=tracker.get_latest_input_channel() or "unknown",
        language=tracker.get_slot("language") or "en",
        language_confidence=float(confidence) if confidence is not None else 0.0,
        reason=reason,
        tried_entries=[{"entry_id": e} for e in [tracker.get_slot("last_faq_entry")] if e],
        transcript=transcript_of(tracker.events),
    )


def transcript_of(events: list[dict[str, Any]]) -> list[TranscriptLine]:
    """Every customer and bot turn with its time, in order; button payloads are kept as sent."""
    lines = []
    for event in events:
        kind, text = event.get("event"), event.get("text")
        if kind not in ("user", "bot") or not text:
            continue
        sent_at = datetime.fromtimestamp(float(event.get("timestamp") or 0), UTC)
        author = Author.CUSTOMER if kind == "user" else Author.BOT
        lines.append(TranscriptLine(author, str(text), sent_at))
    return lines
