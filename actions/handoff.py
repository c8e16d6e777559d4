"""The live handoff, seen from the bot: relay the customer to the ticket, say what agents
queued, answer "what is the status of my ticket?"."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import answered, ask, latest_text
from actions.faq import ActionAnswerFaq
from actions.lexicon import Concept, mentions
from actions.relay import handoff_restored, relay
from actions.runtime import get_ticket_sessions
from actions.state import ActionName, Entity, Question, Slot
from escalation import outbox, tickets
from escalation.models import DeliveryKind
from escalation.outbox import DeliveryContent

logger = logging.getLogger(__name__)

#: The ticket number in "status of ticket #123?", "статус заявки 5".
#: The input channel of the website widget (Rasa's socket.io channel).
WIDGET_CHANNEL = "socketio"
#: Rasa's names of the messaging apps' channels (bot/channels/): a reply there has nothing
#: but its words, so the agent's name goes before them.
MESSAGING_APP_CHANNELS = frozenset({"telegram", "twilio", "facebook", "slack"})
#: Deliveries that are a notice in the customer's language, and the response that says it.
NOTICES = {
    DeliveryKind.DELAY_NOTICE: "utter_delay_notice",
    DeliveryKind.WAITING_ON_CUSTOMER: "utter_waiting_on_you",
}
TICKET_NUMBER = re.compile(r"\b(\d{1,9})\b")


class ActionRelayToAgent(Action):
    """A person owns the conversation: add the customer's message to the ticket, say nothing.

    Chosen by HandoffPolicy (bot/policies/handoff.py) for every message while `handoff` is set,
    and by the language check when the ticket database says a person owns the conversation
    but the slot was lost (Rasa died after the ticket was made).
    """

    def name(self) -> str:
        return ActionName.RELAY_TO_AGENT

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        try:
            ticket_id = await relay(tracker)
        except Exception:
            logger.exception("relaying a message of %s failed", tracker.sender_id)
            dispatcher.utter_message(response="utter_technical_problem")
            return []
        if ticket_id is None:
            # The ticket was closed while the hand-back was on its way: the bot answers.
            return [SlotSet(Slot.HANDOFF, False), FollowupAction(ActionName.ANSWER_FAQ)]
        logger.info("conversation %s: message relayed to ticket #%s", tracker.sender_id, ticket_id)
        return handoff_restored(tracker, ticket_id)


class ActionDeliver(Action):
    """Say one queued delivery (agent reply, pick-up, resolution) once.

    The id of the latest delivery said is kept in a slot: the delivery worker marks a row
    delivered only when Rasa's stored conversation holds it, and a row triggered again (the
    worker's answer was lost) is not said twice. Deliveries reach a conversation in id order.
    """

    def name(self) -> str:
        return ActionName.DELIVER

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        delivery_id = str(next(tracker.get_latest_entity_values(Entity.DELIVERY_ID), ""))
        if not delivery_id.isdigit() or len(delivery_id) > 9:  # a forged payload
            return []
        if int(delivery_id) <= int(tracker.get_slot(Slot.LAST_DELIVERY_ID) or 0):
            return []  # said already: the worker retried
        content = await asyncio.to_thread(
            outbox.content,
            get_ticket_sessions(),
            delivery_id=int(delivery_id),
            conversation_id=tracker.sender_id,
        )
        if content is None:  # delivered already, or not this conversation's
            return []
        # Before the agent's words: what the customer said meanwhile and a relay missed.
        restored = handoff_restored(tracker, await relay(tracker))
        return [
            *restored,
            *say_delivery(dispatcher, tracker, content),
            SlotSet(Slot.LAST_DELIVERY_ID, int(delivery_id)),
        ]


def say_delivery(
    dispatcher: CollectingDispatcher, tracker: Tracker, content: DeliveryContent
) -> list[EventType]:
    """An agent's words as they are; a pick-up or resolution in the customer's language."""
    if content.kind == DeliveryKind.AGENT_REPLY:
        if tracker.get_latest_input_channel() == WIDGET_CHANNEL:
            # Rasa's socket.io output emits a custom message's "data" as the event itself:
            # the widget shows the agent's name and its own look for their words.
            reply = {"text": content.text, "agent": content.agent_first_name or ""}
            dispatcher.utter_message(json_message={"data": reply})
        elif (
            tracker.get_latest_input_channel() in MESSAGING_APP_CHANNELS
            and content.agent_first_name
        ):
            dispatcher.utter_message(text=f"{content.agent_first_name}: {content.text}")
        else:
            dispatcher.utter_message(text=content.text)
        return []
    if content.kind in NOTICES:
        dispatcher.utter_message(response=NOTICES[content.kind], ticket_id=content.ticket_id)
        return []
    if content.kind == DeliveryKind.REOPENED:  # the conversation is the agents' again
        dispatcher.utter_message(response="utter_ticket_reopened", ticket_id=content.ticket_id)
        return [
            SlotSet(Slot.HANDOFF, True),
            SlotSet(Slot.TICKET_ID, str(content.ticket_id)),
            answered(),  # a rating asked at resolution is no longer the question
        ]
    if content.kind == DeliveryKind.PICKED_UP:
        dispatcher.utter_message(
            response="utter_agent_joined",
            agent_name=content.agent_first_name,
            ticket_id=content.ticket_id,
        )
        return []
    dispatcher.utter_message(response="utter_ticket_resolved", ticket_id=content.ticket_id)
    dispatcher.utter_message(response="utter_ask_csat")
    return [
        SlotSet(Slot.HANDOFF, False),
        SlotSet(Slot.TRIED_ENTRIES, []),
        SlotSet(Slot.FAILED_TURNS, 0),
        ask(tracker, Question.CSAT, ticket_id=content.ticket_id),
    ]


class ActionTicketStatus(Action):
    """Tell the customer where their ticket stands; only tickets of this conversation.

    A number alone does not make a status question: "order 48213 has not arrived", "3 items"
    or "in 2018" go to the FAQ. It takes a ticket word (actions/lexicon.yml) or the number
    of one of the conversation's own tickets.
    """

    def name(self) -> str:
        return ActionName.TICKET_STATUS

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = latest_text(tracker)
        numbers = [int(number) for number in TICKET_NUMBER.findall(text)]
        if mentions(Concept.TICKET, text):
            ticket_id = numbers[0] if numbers else tracker.get_slot(Slot.TICKET_ID)
        else:
            own = await asyncio.to_thread(
                tickets.ticket_ids_of, get_ticket_sessions(), conversation_id=tracker.sender_id
            )
            ticket_id = next((number for number in numbers if number in own), None)
            if ticket_id is None:  # not about a ticket after all: a question for the FAQ
                return await ActionAnswerFaq().run(dispatcher, tracker, domain)
        if not ticket_id:
            dispatcher.utter_message(response="utter_no_ticket")
            return []
        status = await asyncio.to_thread(
            tickets.status_for_customer,
            get_ticket_sessions(),
            ticket_id=int(ticket_id),
            conversation_id=tracker.sender_id,
        )
        response = f"utter_ticket_status_{status.value}" if status else "utter_ticket_not_found"
        dispatcher.utter_message(response=response, ticket_id=int(ticket_id))
        return []
