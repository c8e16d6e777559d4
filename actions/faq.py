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
from knowledge.language import DetectedLanguage

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
            knowledge_base = get_knowledge_base()
            language = knowledge_base.detect_language(
                text, previous=_conversation_language(tracker), locale=_channel_locale(tracker)
            )
            # Embedding is CPU work: keep the server's event loop free for other conversations.
            answer = await asyncio.to_thread(knowledge_base.answer, text, language=language)
        except Exception:
            # A customer never sees a traceback, and Rasa never sees a 500.
            logger.exception("FAQ lookup failed for conversation %s", tracker.sender_id)
            dispatcher.utter_message(text=TECHNICAL_PROBLEM)
            return []
        dispatcher.utter_message(text=answer.text if answer.answered else NOT_SURE)
        return _slots_for(answer)


def _conversation_language(tracker: Tracker) -> DetectedLanguage | None:
    lang = tracker.get_slot("language")
    confidence = tracker.get_slot("language_confidence")
    if not isinstance(lang, str):
        return None
    return DetectedLanguage(lang, float(confidence) if confidence is not None else 0.5)


def _channel_locale(tracker: Tracker) -> str | None:
    """The widget's or messaging app's locale, when the channel sent one in the metadata."""
    metadata = tracker.latest_message.get("metadata") or {}
    locale = metadata.get("locale") if isinstance(metadata, dict) else None
    return locale if isinstance(locale, str) else None


def _slots_for(answer: Answer) -> list[EventType]:
    return [
        SlotSet("language", answer.language.lang),
        SlotSet("language_confidence", round(answer.language.confidence, 3)),
        SlotSet("last_faq_entry", answer.entry_id),
    ]
