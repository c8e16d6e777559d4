"""Customer messages to the ticket while a person owns the conversation, at least once.

Apart from actions/handoff.py so that the language check, which runs first in every turn,
can hand a turn to the ticket without importing the FAQ action.
"""

from __future__ import annotations

import asyncio
import logging

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet

from actions.conversation import customer_messages_since_handoff, escalation_key
from actions.runtime import get_sla_policy, get_ticket_sessions
from actions.state import ActionName, Slot
from escalation import tickets

logger = logging.getLogger(__name__)


async def relay(tracker: Tracker) -> int | None:
    """Relay every customer message since the handoff began (those an earlier relay missed
    too); the ticket's id, or None when no person owns the conversation."""
    messages, from_handoff_start = customer_messages_since_handoff(tracker)
    return await asyncio.to_thread(
        tickets.relay_customer_messages,
        get_ticket_sessions(),
        conversation_id=tracker.sender_id,
        messages=messages,
        since_escalation=not from_handoff_start,
        sla=get_sla_policy(),
    )


def handoff_restored(tracker: Tracker, ticket_id: int | None) -> list[EventType]:
    """The slots of a handoff the relay found in the database but the conversation had lost."""
    if ticket_id is None or tracker.get_slot(Slot.HANDOFF):
        return []
    return [SlotSet(Slot.HANDOFF, True), SlotSet(Slot.TICKET_ID, str(ticket_id))]


async def handoff_lost(tracker: Tracker) -> list[EventType]:
    """Relay instead of answering when the ticket database says a person owns the
    conversation but the `handoff` slot says no (Rasa died between the ticket and the slot);
    no events otherwise, and none for the message that made the ticket sent again (below).
    One indexed query per turn."""
    if tracker.get_slot(Slot.HANDOFF):
        return []
    handoff = await asyncio.to_thread(
        tickets.current_handoff, get_ticket_sessions(), conversation_id=tracker.sender_id
    )
    if handoff is None:
        return []
    if handoff.escalation_key == escalation_key(tracker):
        # The message that made the ticket, sent again: Rasa died before it stored that
        # turn, so the customer never heard of the ticket. The turn runs again; its
        # escalation finds the same ticket (tickets.hand_off) and says its number.
        logger.warning(
            "conversation %s: the turn that made ticket #%s is sent again",
            tracker.sender_id,
            handoff.ticket_id,
        )
        return []
    logger.warning(
        "conversation %s: ticket #%s owns it, the slot had lost it",
        tracker.sender_id,
        handoff.ticket_id,
    )
    # The relay sets the slot again: set here, it would hide this turn's message from it.
    return [FollowupAction(ActionName.RELAY_TO_AGENT)]
