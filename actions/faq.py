"""Answering customer questions from the FAQ."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.language import conversation_language
from actions.runtime import get_knowledge_base

logger = logging.getLogger(__name__)


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
        if not answer.answered:
            dispatcher.utter_message(response="utter_not_sure")
        else:
            dispatcher.utter_message(text=answer.text)
            if not answer.in_customer_language:
                dispatcher.utter_message(response="utter_only_in_default_language")
        return [SlotSet("last_faq_entry", answer.entry_id)]
