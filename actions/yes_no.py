"""What a "yes" or a "no" means depends on what the bot just asked."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import answered, asked, latest_text, nlu_is_sure
from actions.escalation import escalate
from actions.faq import ActionAnswerFaq, say_decision, search
from actions.follow_up import answer_feedback
from actions.state import ActionName, Intent, Question, Reason, Slot
from knowledge import Answer

logger = logging.getLogger(__name__)

#: A "no" longer than this is a statement ("my order has not arrived yet") when no question
#: is open, or when the NLU is unsure of it: it goes to the FAQ.
MAX_ANSWER_WORDS = 3


class ActionYesNo(Action):
    """Answer a yes or no according to the bot's last question."""

    def name(self) -> str:
        return ActionName.YES_NO

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if is_new_question(tracker):
            return await ActionAnswerFaq().run(dispatcher, tracker, domain)
        yes = (tracker.latest_message.get("intent") or {}).get("name") == Intent.AFFIRM
        if confirm := asked(tracker, Question.ESCALATION_CONFIRM):
            if not yes:
                dispatcher.utter_message(response="utter_no_problem")
                return [answered(), SlotSet(Slot.FAILED_TURNS, 0)]
            escalated = await escalate(
                dispatcher,
                tracker,
                reason=confirm.reason or Reason.CUSTOMER_REQUEST,
                category=confirm.category,
                priority=confirm.priority,
            )
            return [answered(), *escalated]
        if asked(tracker, Question.ANSWER_FEEDBACK):
            return answer_feedback(dispatcher, tracker, helped=yes)
        if long_message(tracker):
            return await ActionAnswerFaq().run(dispatcher, tracker, domain)
        if answer := await confident_answer(tracker):  # "not delivered yet" is no "no"
            text = latest_text(tracker)
            return [answered(), *say_decision(dispatcher, tracker, text, answer)]
        dispatcher.utter_message(response="utter_glad_to_help" if yes else "utter_ask_rephrase")
        return [answered()]


async def confident_answer(tracker: Tracker) -> Answer | None:
    """The FAQ's answer to a short yes or no that answers nothing of ours, when it has one.

    The NLU takes a few words for a yes or a no on one of its words ("not", "στην"): with
    no question open, the FAQ decides whether they ask something it knows. A failed lookup
    is only logged: the customer then gets the small-talk reply.
    """
    text = latest_text(tracker)
    if not text or text.startswith("/"):
        return None
    try:
        answer = await search(tracker, text)
    except Exception:
        logger.exception("FAQ lookup for a short yes/no failed for %s", tracker.sender_id)
        return None
    return answer if answer.answered or answer.clarifying else None


def is_new_question(tracker: Tracker) -> bool:
    """A long message the NLU only guesses is a yes or no: a question, even after one of ours."""
    return long_message(tracker) and not nlu_is_sure(tracker)


def long_message(tracker: Tracker) -> bool:
    return len(latest_text(tracker).split()) > MAX_ANSWER_WORDS
