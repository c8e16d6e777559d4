"""Answering customer questions from the FAQ.

A message goes through :class:`ActionAnswerFaq`'s steps in order; each is a function a unit
test can call with a recorded tracker:

1. :func:`typed_rating`: a bare digit right after the rating question is a rating,
   :func:`reaction_to_answer`: 👍 or 👎 right after "did this help?" answers it, so does
   :func:`problem_persists`: "still doesn't work", a no, and
   :func:`unsure_yes_or_no`: so does a short reply starting with a yes or no word;
2. :func:`picked_entry`: a clarifying button names the entry to answer;
3. an empty message, or one over MAX_MESSAGE_CHARS, gets a notice instead of a lookup;
4. :func:`topic_rule_for`: a topic a person should handle is offered to one;
5. the knowledge base decides: :func:`reply` answers, asks which entry was meant, or says it
   is not sure (and after too many such turns offers a person).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import ask, latest_text, remember_order_number
from actions.escalation import offer_escalation
from actions.follow_up import (
    answer_feedback,
    answer_open_question,
    problem_persists,
    reaction_to_answer,
    record_rating,
    typed_rating,
    unsure_yes_or_no,
)
from actions.language import conversation_language, language_slots, name_the_language
from actions.metrics import FAQ_LOOKUP_SECONDS, count_decision
from actions.outcomes import record_answer
from actions.relay import handoff_lost
from actions.runtime import escalates_on, get_keyword_rules, get_knowledge_base
from actions.state import ActionName, Entity, Intent, Question, Reason, Slot
from core.limits import MAX_MESSAGE_CHARS
from core.settings import EscalationTrigger, get_settings
from escalation.triggers import KeywordRule, first_match
from knowledge import Answer, Choice

#: What an escalation carries of each of the bot's attempts: its top hits.
TRIED_HITS_PER_QUESTION = 3

logger = logging.getLogger(__name__)


class ActionAnswerFaq(Action):
    """Search the FAQ for the latest message; answer when confident, else say so.

    It does what action_detect_language does first (a conversation a person owns is relayed
    instead; the language is resolved) in the same call: one HTTP call, one prediction and
    three events fewer a turn.
    """

    def name(self) -> str:
        return ActionName.ANSWER_FAQ

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if relay_instead := await handoff_lost(tracker):
            return relay_instead
        before = dict(tracker.slots)
        language = language_slots(tracker)
        tracker.slots.update({event["name"]: event["value"] for event in language})
        events = [*remember_order_number(tracker), *await self.answer(dispatcher, tracker)]
        name_the_language(dispatcher, tracker)
        return only_changes(before, [*language, *events])

    async def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """The steps of the module's docstring, first that applies."""
        if rating := typed_rating(tracker):
            return await record_rating(dispatcher, tracker, rating)
        if (helped := reaction_to_answer(tracker)) is not None:
            return answer_feedback(dispatcher, tracker, helped=helped)
        if problem_persists(tracker):
            return answer_feedback(dispatcher, tracker, helped=False)
        if (yes := unsure_yes_or_no(tracker)) is not None:
            return await answer_open_question(dispatcher, tracker, yes=yes) or []
        if entry_id := picked_entry(tracker):
            return answer_picked(dispatcher, tracker, entry_id)
        text = latest_text(tracker)
        if not text:
            dispatcher.utter_message(response="utter_empty_message")
            return []
        if len(text) > MAX_MESSAGE_CHARS:  # kept whole in the tracker, so in a transcript too
            dispatcher.utter_message(response="utter_message_too_long")
            return []
        if rule := topic_rule_for(text):
            return offer_for_topic(dispatcher, tracker, rule)
        answer = await lookup(dispatcher, tracker, text)
        if answer is None:
            return []
        return say_decision(dispatcher, tracker, text, answer)


#: Set on every turn even to the same value: each turn's attempt is an event of its own, and a
#: ticket gathers them (actions/escalation.py's attempts_in).
ALWAYS_SET = frozenset({Slot.TRIED_ENTRIES})


def only_changes(slots: dict[str, Any], events: list[EventType]) -> list[EventType]:
    """``events`` without the slot events that set a slot to the value it has: Rasa loads,
    saves and sends every event of the conversation with each turn, and a FAQ turn would
    otherwise repeat the language and the counters each time."""
    values = dict(slots)
    kept = []
    for event in events:
        if event.get("event") == "slot" and event["name"] not in ALWAYS_SET:
            if event["name"] in values and values[event["name"]] == event["value"]:
                continue
            values[event["name"]] = event["value"]
        kept.append(event)
    return kept


def say_decision(
    dispatcher: CollectingDispatcher, tracker: Tracker, text: str, answer: Answer
) -> list[EventType]:
    """Record the decision on ``text``, add it to what the bot tried, and say it."""
    record_answer(tracker, answer)
    return [tried(text, answer), *reply(dispatcher, tracker, answer)]


async def search(tracker: Tracker, text: str) -> Answer:
    """The knowledge base's decision on ``text`` in the conversation's language."""
    # Embedding is CPU work: keep the server's event loop free for other conversations.
    with FAQ_LOOKUP_SECONDS.time():
        return await asyncio.to_thread(
            get_knowledge_base().answer, text, language=conversation_language(tracker)
        )


async def lookup(dispatcher: CollectingDispatcher, tracker: Tracker, text: str) -> Answer | None:
    """The knowledge base's decision on ``text``; None (and an apology said) if it failed."""
    try:
        return await search(tracker, text)
    except Exception:
        # A customer never sees a traceback, and Rasa never sees a 500.
        logger.exception("FAQ lookup failed for conversation %s", tracker.sender_id)
        dispatcher.utter_message(response="utter_technical_problem")
        return None


def picked_entry(tracker: Tracker) -> str | None:
    """The entry a customer picked with a button, if this message is such a pick."""
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == Entity.FAQ_ENTRY and isinstance(entity.get("value"), str):
            return str(entity["value"])
    return None


def answer_picked(
    dispatcher: CollectingDispatcher, tracker: Tracker, entry_id: str
) -> list[EventType]:
    knowledge_base = get_knowledge_base()
    language = conversation_language(tracker) or knowledge_base.detect_language("")
    try:
        answer = knowledge_base.answer_entry(entry_id, language)
    except KeyError:  # a stale button after the FAQ changed, or a forged payload
        dispatcher.utter_message(response="utter_not_sure")
        return []
    record_answer(tracker, answer)
    return send_answer(dispatcher, tracker, answer)


def topic_rule_for(text: str) -> KeywordRule | None:
    """The first keyword rule the message matches, when that trigger is on."""
    if not escalates_on(EscalationTrigger.KEYWORD_RULE):
        return None
    return first_match(get_keyword_rules(), text)


def offer_for_topic(
    dispatcher: CollectingDispatcher, tracker: Tracker, rule: KeywordRule
) -> list[EventType]:
    return offer_escalation(
        dispatcher,
        tracker,
        response="utter_offer_human_for_topic",
        reason=f"{Reason.KEYWORD_RULE}:{rule.name}",
        category=rule.category,
        priority=rule.priority,
    )


def reply(dispatcher: CollectingDispatcher, tracker: Tracker, answer: Answer) -> list[EventType]:
    """Say the knowledge base's decision: an answer, a choice between two, or not sure."""
    logger.info(
        "conversation %s [%s]: %s", tracker.sender_id, answer.language.lang, outcome(answer)
    )
    count_decision(answer)
    if answer.clarifying:
        dispatcher.utter_message(response="utter_which_question", buttons=buttons(answer.choices))
        return []
    if not answer.answered:
        return not_answered(dispatcher, tracker, answer.suggestions)
    return send_answer(dispatcher, tracker, answer)


def buttons(choices: tuple[Choice, ...]) -> list[dict[str, str]]:
    """One button per entry, titled with its question; a click answers that entry."""
    return [{"title": choice.title, "payload": pick_payload(choice.entry_id)} for choice in choices]


def outcome(answer: Answer) -> str:
    """The decision in a few words, for the log."""
    if answer.clarifying:
        return "asked which of " + " or ".join(choice.entry_id for choice in answer.choices)
    if answer.answered:
        return f"answered {answer.entry_id} ({answer.answer_lang})"
    best = answer.hits[0].entry_id if answer.hits else "nothing"
    return f"not sure (closest: {best})"


def not_answered(
    dispatcher: CollectingDispatcher, tracker: Tracker, suggestions: tuple[Choice, ...] = ()
) -> list[EventType]:
    """Say so, offering the ``suggestions`` if any; after too many such turns in a row,
    offer a person instead."""
    failed = int(tracker.get_slot(Slot.FAILED_TURNS) or 0) + 1
    if (
        escalates_on(EscalationTrigger.FAILED_TURNS)
        and failed >= get_settings().failed_turns_before_escalation
    ):
        return offer_escalation(
            dispatcher,
            tracker,
            response="utter_offer_human_after_failures",
            reason=Reason.BOT_COULD_NOT_ANSWER,
        )
    if suggestions:
        dispatcher.utter_message(
            response="utter_not_sure_suggestions", buttons=buttons(suggestions)
        )
    else:
        dispatcher.utter_message(response="utter_not_sure")
    return [SlotSet(Slot.LAST_FAQ_ENTRY, None), SlotSet(Slot.FAILED_TURNS, failed)]


def send_answer(
    dispatcher: CollectingDispatcher, tracker: Tracker, answer: Answer
) -> list[EventType]:
    """The answer, a note if it is not in the customer's language, then "did this help?"."""
    dispatcher.utter_message(text=answer.text)
    if not answer.in_customer_language:
        dispatcher.utter_message(response="utter_only_in_default_language")
    events: list[EventType] = [
        SlotSet(Slot.LAST_FAQ_ENTRY, answer.entry_id),
        SlotSet(Slot.FAILED_TURNS, 0),
    ]
    if escalates_on(EscalationTrigger.UNHELPFUL_ANSWER):
        dispatcher.utter_message(response="utter_did_this_help")
        events.append(ask(tracker, Question.ANSWER_FEEDBACK, entry_id=answer.entry_id))
    return events


def tried(question: str, answer: Answer) -> EventType:
    """This question and the entries it matched: this turn's part of what the bot tried.

    Each entry comes with its question (in the conversation's language) and how well it
    fit in words, for the agent; the raw scores stay for whoever tunes the FAQ. Only this
    turn's attempt is set (an escalation gathers them from the conversation's events,
    actions/escalation.py): a list re-set whole every turn made the tracker, which Rasa
    loads, saves and sends with every action call, grow with the square of its length.
    """
    kb, lang = get_knowledge_base(), answer.language.lang
    attempt = {
        "question": question[:500],
        "answered_with": answer.entry_id,
        "answered_title": kb.title(answer.entry_id, lang) if answer.entry_id else None,
        "hits": [
            {
                "entry_id": hit.entry_id,
                "title": kb.title(hit.entry_id, lang),
                "match": str(kb.policy.match(hit.score, lang)),
                "dense": round(float(hit.dense), 3),
                "lexical": round(float(hit.lexical), 3),
            }
            for hit in answer.hits[:TRIED_HITS_PER_QUESTION]
            if hit.entry_id in kb.entries
        ],
    }
    return SlotSet(Slot.TRIED_ENTRIES, [attempt])


def pick_payload(entry_id: str) -> str:
    """What a clarifying button sends: the FAQ intent naming the entry."""
    return f"/{Intent.FAQ}" + json.dumps({Entity.FAQ_ENTRY.value: entry_id})
