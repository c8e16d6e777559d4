"""What a "yes" or a "no" means depends on what the bot just asked."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import answered, latest_text, nlu_is_sure
from actions.faq import ActionAnswerFaq, say_decision, search
from actions.follow_up import MAX_ANSWER_WORDS, answer_open_question
from actions.state import ActionName, Intent, Slot
from knowledge import Answer

logger = logging.getLogger(__name__)


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
        if (reply := await answer_open_question(dispatcher, tracker, yes=yes)) is not None:
            return reply
        if long_message(tracker):
            return await ActionAnswerFaq().run(dispatcher, tracker, domain)
        if answer := await confident_answer(tracker):  # "not delivered yet" is no "no"
            text = latest_text(tracker)
            return [answered(), *say_decision(dispatcher, tracker, text, answer)]
        if yes and not tracker.get_slot(Slot.LAST_FAQ_ENTRY):
            # A yes with no answer to be glad about: xSID's "Please open Zvooq" got "Glad I
            # could help" as the first message; the FAQ says it is not sure and offers what fits.
            return await ActionAnswerFaq().run(dispatcher, tracker, domain)
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
