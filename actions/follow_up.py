"""What a "thanks", an emoji or a digit means depends on what the bot just asked."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import answered, asked, latest_text
from actions.escalation import answer_offer, offer_escalation
from actions.lexicon import Concept, mentions_together, opens_with
from actions.outcomes import record_feedback
from actions.runtime import get_ticket_sessions
from actions.state import ActionName, Awaiting, Entity, Intent, Question, Reason, Slot
from escalation import ratings

#: Emoji that answer "did this help?" on their own.
POSITIVE_REACTIONS = (
    "👍",
    "👌",
    "🙂",
    "😊",
    "😀",
    "😃",
    "😄",
    "😁",
    "❤",
    "💯",
    "✅",
    "🙏",
    "👏",
    "🥰",
    "😍",
)
NEGATIVE_REACTIONS = ("👎", "🙁", "☹", "😞", "😕", "😠", "😡", "❌")


#: A "no" longer than this is a statement ("my order has not arrived yet") when no question
#: is open, or when the NLU is unsure of it: it goes to the FAQ.
MAX_ANSWER_WORDS = 3


async def answer_open_question(
    dispatcher: CollectingDispatcher, tracker: Tracker, *, yes: bool
) -> list[EventType] | None:
    """A yes or no to the yes-or-no question the bot has just asked; None if it asked none."""
    if offer := asked(tracker, Question.ESCALATION_CONFIRM):
        return await answer_offer(dispatcher, tracker, offer, accepted=yes)
    if asked(tracker, Question.ANSWER_FEEDBACK):
        return answer_feedback(dispatcher, tracker, helped=yes)
    return None


def unsure_yes_or_no(tracker: Tracker) -> bool | None:
    """Whether a short reply the NLU was unsure of is a yes (True) or a no (False), when the
    bot has just asked a yes-or-no question and the reply starts with a yes or a no word
    (actions/lexicon.yml): "όχι ευχαριστώ" is half "no", half "thanks" to the NLU."""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    text = latest_text(tracker)
    if intent != Intent.NLU_FALLBACK or len(text.split()) > MAX_ANSWER_WORDS:
        return None
    if not (
        asked(tracker, Question.ESCALATION_CONFIRM) or asked(tracker, Question.ANSWER_FEEDBACK)
    ):
        return None
    if opens_with(Concept.YES, text):
        return True
    return False if opens_with(Concept.NO, text) else None


def answer_feedback(
    dispatcher: CollectingDispatcher, tracker: Tracker, *, helped: bool
) -> list[EventType]:
    """The customer's answer to "did this help?", recorded on the answer it is about."""
    record_feedback(tracker, helped=helped)
    if helped:
        dispatcher.utter_message(response="utter_glad_to_help")
        return [answered()]
    # "It did not help" is no request for a person yet: offer one, the customer decides.
    return offer_escalation(
        dispatcher,
        tracker,
        response="utter_offer_human_after_failures",
        reason=Reason.ANSWER_DID_NOT_HELP,
    )


def reaction_to_answer(tracker: Tracker) -> bool | None:
    """👍 or 👎 (emoji only) right after "did this help?": whether it helped, else None."""
    if not asked(tracker, Question.ANSWER_FEEDBACK):
        return None
    text = latest_text(tracker)
    if not text or any(character.isalnum() for character in text):
        return None
    if any(emoji in text for emoji in NEGATIVE_REACTIONS):
        return False
    return True if any(emoji in text for emoji in POSITIVE_REACTIONS) else None


def problem_persists(tracker: Tracker) -> bool:
    """Whether the reply to "did this help?" says the problem is still there ("still doesn't
    work", "funktioniert immer noch nicht"): a "no", though the NLU takes it for a question
    and the FAQ would answer its words ("work" -> "my discount code does not work"). The two
    words must form one phrase: "I don't have an account, can I still order?" is a question."""
    if not asked(tracker, Question.ANSWER_FEEDBACK):
        return False
    return mentions_together(Concept.STILL, Concept.NOT, latest_text(tracker))


class ActionThanks(Action):
    """ "Thanks": an answer to "did this help?" when the bot just asked it, else politeness."""

    def name(self) -> str:
        return ActionName.THANKS

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if asked(tracker, Question.ANSWER_FEEDBACK):
            return answer_feedback(dispatcher, tracker, helped=True)
        dispatcher.utter_message(response="utter_you_are_welcome")
        return []


class ActionRecordCsat(Action):
    """Store the customer's 1-5 rating on the ticket that was just resolved."""

    def name(self) -> str:
        return ActionName.RECORD_CSAT

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        rating = next(tracker.get_latest_entity_values(Entity.RATING), None)
        return await record_rating(dispatcher, tracker, str(rating or ""))


def typed_rating(tracker: Tracker) -> str | None:
    """A bare "1".."5" typed right after the rating question."""
    text = latest_text(tracker)
    return text if asked(tracker, Question.CSAT) and text in {"1", "2", "3", "4", "5"} else None


async def record_rating(
    dispatcher: CollectingDispatcher, tracker: Tracker, rating: str
) -> list[EventType]:
    """Store the rating on the ticket the bot asked about (else the conversation's latest)."""
    awaiting = Awaiting.from_slot(tracker.get_slot(Slot.AWAITING))
    ticket_id = (awaiting.ticket_id if awaiting else None) or tracker.get_slot(Slot.TICKET_ID)
    stored = False
    if rating.isdigit() and ticket_id and str(ticket_id).isdigit():
        stored = await asyncio.to_thread(
            ratings.rate,
            get_ticket_sessions(),
            ticket_id=int(ticket_id),
            conversation_id=tracker.sender_id,
            rating=int(rating),
        )
    dispatcher.utter_message(response="utter_thanks_for_rating" if stored else "utter_ask_rephrase")
    return [answered()]
