"""Answering customer questions from the FAQ."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.runtime import get_knowledge_base
from knowledge import Answer

logger = logging.getLogger(__name__)

NOT_SURE = (
    "I'm not sure I have the right answer to that. Could you rephrase it, "
    "or ask to talk to a person?"
)
EMPTY_MESSAGE = "I didn't catch a question there. What can I help you with?"
TECHNICAL_PROBLEM = (
    "Sorry, I can't look that up right now. Please try again in a moment, "
    "or ask to talk to a person."
)


class ActionAnswerFaq(Action):
    """Search the FAQ for the latest message; answer when confident, else say so."""

    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = (tracker.latest_message.get("text") or "").strip()
        if not text:
            dispatcher.utter_message(text=EMPTY_MESSAGE)
            return []
        try:
            # Embedding is CPU work: keep the server's event loop free for other conversations.
            answer = await asyncio.to_thread(get_knowledge_base().answer, text)
        except Exception:
            # A customer never sees a traceback, and Rasa never sees a 500.
            logger.exception("FAQ lookup failed for conversation %s", tracker.sender_id)
            dispatcher.utter_message(text=TECHNICAL_PROBLEM)
            return []
        dispatcher.utter_message(text=answer.text if answer.answered else NOT_SURE)
        return _slots_for(answer)


def _slots_for(answer: Answer) -> list[EventType]:
    return [
        SlotSet("language", answer.language.lang),
        SlotSet("language_confidence", round(answer.language.confidence, 3)),
        SlotSet("last_faq_entry", answer.entry_id),
    ]
