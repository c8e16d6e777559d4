"""What a "yes", a "no" or a digit means depends on what the bot just asked."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import ANSWER_FEEDBACK, CSAT, ESCALATION_CONFIRM, asked
from actions.escalation import escalate, offer_escalation
from actions.runtime import get_ticket_sessions
from escalation import crud
from escalation.db import session_scope


class ActionYesNo(Action):
    """Answer a yes or no according to the bot's last question."""

    def name(self) -> str:
        return "action_yes_no"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        yes = (tracker.latest_message.get("intent") or {}).get("name") == "affirm"
        done = SlotSet("awaiting", None)
        if confirm := asked(tracker, ESCALATION_CONFIRM):
            if not yes:
                dispatcher.utter_message(response="utter_no_problem")
                return [done, SlotSet("failed_turns", 0)]
            return [done, *await escalate(dispatcher, tracker, **_escalation_details(confirm))]
        if asked(tracker, ANSWER_FEEDBACK) and not yes:
            # "It did not help" is no request for a person yet: offer one, the customer decides.
            return offer_escalation(
                dispatcher,
                tracker,
                response="utter_offer_human_after_failures",
                reason="answer_did_not_help",
            )
        dispatcher.utter_message(response="utter_glad_to_help" if yes else "utter_ask_rephrase")
        return [done]


def _escalation_details(confirm: dict[str, Any]) -> dict[str, Any]:
    return {key: confirm.get(key) for key in ("reason", "category", "priority")}


class ActionRecordCsat(Action):
    """Store the customer's 1-5 rating on the ticket that was just resolved."""

    def name(self) -> str:
        return "action_record_csat"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        rating = next(tracker.get_latest_entity_values("rating"), None)
        return await record_rating(dispatcher, tracker, str(rating or ""))


def typed_rating(tracker: Tracker) -> str | None:
    """A bare "1".."5" typed right after the rating question."""
    text = (tracker.latest_message.get("text") or "").strip()
    return text if asked(tracker, CSAT) and text in {"1", "2", "3", "4", "5"} else None


async def record_rating(
    dispatcher: CollectingDispatcher, tracker: Tracker, rating: str
) -> list[EventType]:
    awaiting = tracker.get_slot("awaiting")
    ticket_id = awaiting.get("ticket_id") if isinstance(awaiting, dict) else None
    ticket_id = ticket_id or tracker.get_slot("ticket_id")
    stored = False
    if rating.isdigit() and ticket_id and str(ticket_id).isdigit():
        stored = await asyncio.to_thread(
            _store_rating, int(ticket_id), tracker.sender_id, int(rating)
        )
    dispatcher.utter_message(response="utter_thanks_for_rating" if stored else "utter_ask_rephrase")
    return [SlotSet("awaiting", None)]


def _store_rating(ticket_id: int, conversation_id: str, rating: int) -> bool:
    with session_scope(get_ticket_sessions()) as session:
        return crud.record_csat(
            session, ticket_id=ticket_id, conversation_id=conversation_id, rating=rating
        )
