"""A customer asks for a person: hand over at once when that is clearly what they said.

The NLU's "ask for a person" intent also fires on ordinary questions that mention
exchanging, returning, staff or advice, and is sure of itself on them. So:

- a message that names no person (actions/lexicon.yml), or names people only to count them
  ("a table for 4 people"), is no request for one: it is a question, handled as every other
  (answered, or declined and a person offered after repeated failures);
- one that names a person makes a ticket at once when the NLU is sure;
- one that names a person while the NLU is unsure, or asks when people are there ("when are
  your agents available?"), is tried on the FAQ first, and the bot offers a person if it
  has no answer.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import latest_text, nlu_is_sure, remember_order_number
from actions.escalation import escalate, offer_escalation
from actions.faq import ActionAnswerFaq, lookup, reply, tried
from actions.lexicon import Concept, a_clause_opens_with, names_a_person
from actions.runtime import escalates_on
from actions.state import ActionName, Reason
from core.settings import EscalationTrigger


class ActionEscalate(Action):
    """Hand the conversation to a person, or answer / offer one when the request is unclear."""

    def name(self) -> str:
        return ActionName.ESCALATE

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if not escalates_on(EscalationTrigger.CUSTOMER_REQUEST):
            dispatcher.utter_message(response="utter_human_unavailable")
            return []
        return [*remember_order_number(tracker), *await self.respond(dispatcher, tracker)]

    async def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """A ticket for a clear request; an answer or an offer for an unclear one."""
        text = latest_text(tracker)
        if not names_a_person(text):  # no request for a person: a question
            return await ActionAnswerFaq().answer(dispatcher, tracker)
        if nlu_is_sure(tracker) and not a_clause_opens_with(Concept.WHEN, text):
            return await escalate(dispatcher, tracker, reason=Reason.CUSTOMER_REQUEST)
        answer = await lookup(dispatcher, tracker, text)
        if answer is None:
            return []
        if answer.answered or answer.clarifying:
            return [tried(text, answer), *reply(dispatcher, tracker, answer)]
        return [
            tried(text, answer),
            *offer_escalation(
                dispatcher,
                tracker,
                response="utter_offer_human_after_failures",
                reason=Reason.CUSTOMER_REQUEST,
            ),
        ]
