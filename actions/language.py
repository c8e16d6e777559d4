"""Resolving the conversation's language before the bot replies."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import latest_text
from actions.relay import handoff_lost
from actions.runtime import get_knowledge_base
from actions.state import ActionName, Intent, Slot
from core.limits import typed_within_limit
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
        prepare_lookup(tracker)
        relay_instead = await handoff_lost(tracker)
        if relay_instead:
            return relay_instead
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


#: The intents whose rules run the FAQ search right after this action (bot/data/rules.yml).
#: ("nlu_fallback" is Rasa's own, for a message no intent is confident about.)
SEARCHED_INTENTS = frozenset({Intent.FAQ, "nlu_fallback"})


def prepare_lookup(tracker: Tracker) -> None:
    """Start embedding the message when the FAQ search follows: the vector, the turn's
    largest cost, is then computed while this action and Rasa's next step run."""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    text = latest_text(tracker)
    if (
        intent in SEARCHED_INTENTS
        and not tracker.get_slot(Slot.HANDOFF)
        and typed_within_limit(text)
    ):
        try:
            get_knowledge_base().prepare_search(text)
        except Exception:  # only a head start: the search embeds it itself
            logger.exception("could not start embedding ahead for %s", tracker.sender_id)


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
