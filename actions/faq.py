"""Answering customer questions from the FAQ."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import ANSWER_FEEDBACK, ask
from actions.escalation import offer_escalation
from actions.follow_up import record_rating, typed_rating
from actions.language import conversation_language
from actions.runtime import get_keyword_rules, get_knowledge_base
from escalation.triggers import first_match
from helpdesk.settings import get_settings
from knowledge import Answer

#: What an escalation carries of the bot's attempts: the latest questions, top hits each.
TRIED_QUESTIONS_KEPT = 10
TRIED_HITS_PER_QUESTION = 3

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
        if rating := typed_rating(tracker):
            return await record_rating(dispatcher, tracker, rating)
        picked = _picked_entry(tracker)
        if picked:
            return self._answer_picked(dispatcher, tracker, picked)
        text = (tracker.latest_message.get("text") or "").strip()
        if not text:
            dispatcher.utter_message(response="utter_empty_message")
            return []
        settings = get_settings()
        rule = first_match(get_keyword_rules(), text)
        if rule is not None and "keyword_rule" in settings.escalation_triggers:
            return offer_escalation(
                dispatcher,
                tracker,
                response="utter_offer_human_for_topic",
                reason=f"keyword_rule:{rule.name}",
                category=rule.category,
                priority=rule.priority,
            )
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
        tried = _tried(tracker, text, answer)
        if answer.clarifying:
            buttons = [
                {"title": choice.title, "payload": _pick_payload(choice.entry_id)}
                for choice in answer.choices
            ]
            dispatcher.utter_message(response="utter_which_question", buttons=buttons)
            return [tried]
        if not answer.answered:
            return [tried, *self._not_answered(dispatcher, tracker)]
        return [tried, *_send(dispatcher, tracker, answer)]

    @staticmethod
    def _not_answered(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Say so; after too many such turns in a row, offer a person instead."""
        settings = get_settings()
        failed = int(tracker.get_slot("failed_turns") or 0) + 1
        if (
            "failed_turns" in settings.escalation_triggers
            and failed >= settings.failed_turns_before_escalation
        ):
            return offer_escalation(
                dispatcher,
                tracker,
                response="utter_offer_human_after_failures",
                reason="bot_could_not_answer",
            )
        dispatcher.utter_message(response="utter_not_sure")
        return [SlotSet("last_faq_entry", None), SlotSet("failed_turns", failed)]

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
        return _send(dispatcher, tracker, answer)


def _send(dispatcher: CollectingDispatcher, tracker: Tracker, answer: Answer) -> list[EventType]:
    """The answer, a note if it is not in the customer's language, then "did this help?"."""
    dispatcher.utter_message(text=answer.text)
    if not answer.in_customer_language:
        dispatcher.utter_message(response="utter_only_in_default_language")
    events: list[EventType] = [
        SlotSet("last_faq_entry", answer.entry_id),
        SlotSet("failed_turns", 0),
    ]
    if "unhelpful_answer" in get_settings().escalation_triggers:
        dispatcher.utter_message(response="utter_did_this_help")
        events.append(ask(tracker, ANSWER_FEEDBACK, entry_id=answer.entry_id))
    return events


def _tried(tracker: Tracker, question: str, answer: Answer) -> EventType:
    """Add this question and the entries it matched (with scores) to what the bot tried."""
    attempt = {
        "question": question[:500],
        "answered_with": answer.entry_id,
        "hits": [
            {
                "entry_id": hit.entry_id,
                "dense": round(float(hit.dense), 3),
                "lexical": round(float(hit.lexical), 3),
            }
            for hit in answer.hits[:TRIED_HITS_PER_QUESTION]
        ],
    }
    earlier = list(tracker.get_slot("tried_entries") or [])
    return SlotSet("tried_entries", [*earlier, attempt][-TRIED_QUESTIONS_KEPT:])


def _pick_payload(entry_id: str) -> str:
    """What a clarifying button sends: the FAQ intent naming the entry."""
    return "/faq" + json.dumps({PICKED_ENTITY: entry_id})


def _picked_entry(tracker: Tracker) -> str | None:
    """The entry a customer picked with a button, if this message is such a pick."""
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == PICKED_ENTITY and isinstance(entity.get("value"), str):
            return str(entity["value"])
    return None
