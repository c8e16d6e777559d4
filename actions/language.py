"""Resolving the conversation's language before the bot replies."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.relay import handoff_lost
from actions.runtime import get_knowledge_base
from actions.state import ActionName, Slot
from knowledge.language import DetectedLanguage

logger = logging.getLogger(__name__)


class ActionDetectLanguage(Action):
    """Set the `language` slot from the message, the conversation so far and the locale.

    Runs first in every turn (bot/data/rules.yml), so the response that follows is rendered
    by Rasa in the customer's language through its conditional variations. Being first, it
    is also where a turn that a person owns but the bot was about to answer goes to the
    ticket instead (``handoff_lost``).
    """

    def name(self) -> str:
        return ActionName.DETECT_LANGUAGE

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        relay_instead = await handoff_lost(tracker)
        if relay_instead:
            return relay_instead
        return language_slots(tracker)


def language_slots(tracker: Tracker) -> list[EventType]:
    """The `language` slots after the latest message; none if it says nothing new."""
    text = tracker.latest_message.get("text") or ""
    locale = channel_locale(tracker)
    if text.startswith("/"):  # a button's payload says nothing about the language...
        if locale is None or conversation_language(tracker) is not None:
            return []
        text = ""  # ...but a widget's opening payload comes with the page's locale
    try:
        language = get_knowledge_base().detect_language(
            text, previous=conversation_language(tracker), locale=locale
        )
    except Exception:
        logger.exception("language detection failed for %s", tracker.sender_id)
        return []
    return [
        SlotSet(Slot.LANGUAGE, language.lang),
        SlotSet(Slot.LANGUAGE_CONFIDENCE, language.confidence),
    ]


def name_the_language(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Name the conversation's language with each response the action asked for: an action
    that sets the language in the same call as it answers (action_answer_faq) would otherwise
    get them in the previous one, since Rasa renders them before it sets the slot
    (bot/nlg.py reads the name)."""
    language = tracker.get_slot(Slot.LANGUAGE)
    if isinstance(language, str):
        for message in dispatcher.messages:
            if message.get("response"):
                message.setdefault(Slot.LANGUAGE.value, language)


def conversation_language(tracker: Tracker) -> DetectedLanguage | None:
    """The language resolved on earlier turns, from the slots."""
    lang = tracker.get_slot(Slot.LANGUAGE)
    confidence = tracker.get_slot(Slot.LANGUAGE_CONFIDENCE)
    if not isinstance(lang, str):
        return None
    return DetectedLanguage(lang, float(confidence) if confidence is not None else 0.5)


def channel_locale(tracker: Tracker) -> str | None:
    """The widget's or messaging app's locale, when the channel sent one in the metadata."""
    metadata = tracker.latest_message.get("metadata") or {}
    locale = metadata.get("locale") if isinstance(metadata, dict) else None
    return locale if isinstance(locale, str) else None
