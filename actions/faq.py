"""Answering customer questions from the FAQ."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.language import conversation_language
from actions.runtime import get_knowledge_base
from knowledge import Answer

logger = logging.getLogger(__name__)

#: Entity of the button payload ``/faq{"faq_entry": "<entry id>"}``.
PICKED_ENTITY = "faq_entry"


class ActionAnswerFaq(Action):
    """Search the FAQ for the latest message; answer when confident, else say so.

    The conversation's language is already in the `language` slot (action_detect_language
    runs first), so the fixed responses used here render in it.
    """

    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        picked = _picked_entry(tracker)
        if picked:
            return self._answer_picked(dispatcher, tracker, picked)
        text = (tracker.latest_message.get("text") or "").strip()
        if not text:
            dispatcher.utter_message(response="utter_empty_message")
            return []
        try:
            # Embedding is CPU work: keep the server's event loop free for other conversations.
            answer = await asyncio.to_thread(
                get_knowledge_base().answer, text, language=conversation_language(tracker)
            )
        except Exception:
            # A customer never sees a traceback, and Rasa never sees a 500.
            logger.exception("FAQ lookup failed for conversation %s", tracker.sender_id)
            dispatcher.utter_message(response="utter_technical_problem")
            return []
        if answer.clarifying:
            buttons = [
                {"title": choice.title, "payload": _pick_payload(choice.entry_id)}
                for choice in answer.choices
            ]
            dispatcher.utter_message(response="utter_which_question", buttons=buttons)
            return []
        if not answer.answered:
            dispatcher.utter_message(response="utter_not_sure")
            return [SlotSet("last_faq_entry", None)]
        return _send(dispatcher, answer)

    def _answer_picked(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, entry_id: str
    ) -> list[EventType]:
        knowledge_base = get_knowledge_base()
        language = conversation_language(tracker) or knowledge_base.detect_language("")
        try:
            answer = knowledge_base.answer_entry(entry_id, language)
        except KeyError:  # a stale button after the FAQ changed, or a forged payload
            dispatcher.utter_message(response="utter_not_sure")
            return []
        return _send(dispatcher, answer)


def _send(dispatcher: CollectingDispatcher, answer: Answer) -> list[EventType]:
    dispatcher.utter_message(text=answer.text)
    if not answer.in_customer_language:
        dispatcher.utter_message(response="utter_only_in_default_language")
    return [SlotSet("last_faq_entry", answer.entry_id)]


def _pick_payload(entry_id: str) -> str:
    """What a clarifying button sends: the FAQ intent naming the entry."""
    return "/faq" + json.dumps({PICKED_ENTITY: entry_id})


def _picked_entry(tracker: Tracker) -> str | None:
    """The entry a customer picked with a button, if this message is such a pick."""
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == PICKED_ENTITY and isinstance(entity.get("value"), str):
            return str(entity["value"])
    return None
