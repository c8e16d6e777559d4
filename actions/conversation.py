"""Reading the conversation from the tracker: customer turns and the bot's open question.

The question is remembered in the `awaiting` slot with the customer turn it was asked on;
an answer counts only on the very next turn, so a stale question never captures a later "yes".
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet

from actions.lexicon import order_number_in
from actions.state import Awaiting, Question, Slot
from escalation.models import Author
from escalation.tickets import TranscriptLine


def customer_turns(tracker: Tracker) -> int:
    """How many messages the customer sent (triggered EXTERNAL_* intents are not theirs)."""
    return sum(1 for event in tracker.events if _is_customer_message(event))


def _is_customer_message(event: dict[str, Any]) -> bool:
    if event.get("event") != "user":
        return False
    intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name") or ""
    return not str(intent).startswith("EXTERNAL_")


def ask(tracker: Tracker, kind: Question, **details: Any) -> EventType:
    """Remember that the bot asked ``kind`` on this turn; the answer comes next turn."""
    awaiting = Awaiting(kind=kind, turn=customer_turns(tracker), **details)
    return SlotSet(Slot.AWAITING, awaiting.as_slot())


def asked(tracker: Tracker, kind: Question) -> Awaiting | None:
    """The question of ``kind`` the latest message answers, if it answers one."""
    awaiting = Awaiting.from_slot(tracker.get_slot(Slot.AWAITING))
    if awaiting is None or awaiting.kind != kind:
        return None
    return awaiting if awaiting.turn == customer_turns(tracker) - 1 else None


def answered() -> EventType:
    """The open question is settled (answered, or overtaken by a handoff)."""
    return SlotSet(Slot.AWAITING, None)


def latest_customer_message(tracker: Tracker) -> dict[str, Any] | None:
    """The latest user event that the customer sent (not a triggered EXTERNAL_* intent)."""
    return next((e for e in reversed(tracker.events) if _is_customer_message(e)), None)


#: How far back a relay looks when the conversation does not show where its handoff began
#: (the flag was lost and set again): enough for any handoff, bounded for a long tracker.
RELAY_LOOKBACK = 200


def customer_messages_since_handoff(tracker: Tracker) -> tuple[list[TranscriptLine], bool]:
    """The customer's messages since the `handoff` slot was last set, oldest first, and
    whether that moment is in the tracker; when it is not (the slot was lost), the latest
    :data:`RELAY_LOOKBACK` messages, and the ticket's time decides."""
    messages: list[TranscriptLine] = []
    for event in reversed(tracker.events):
        if (
            event.get("event") == "slot"
            and event.get("name") == Slot.HANDOFF
            and event.get("value")
        ):
            return messages[::-1], True
        if _is_customer_message(event):
            messages.append(customer_line(event))
            if len(messages) == RELAY_LOOKBACK:
                break
    return messages[::-1], False


def customer_line(event: dict[str, Any]) -> TranscriptLine:
    """A customer's message as a transcript line, keyed by its message id."""
    return TranscriptLine(
        Author.CUSTOMER, str(event.get("text") or ""), sent_at(event), message_key(event)
    )


#: The longest client-chosen message id taken (the ticket's key column holds 200).
CLIENT_MESSAGE_ID_CHARS = 100
#: What a ticket's ``escalation_key`` column holds: a longer key (a long site user id with a
#: long client message id) is kept as its digest, still one per turn.
ESCALATION_KEY_CHARS = 200


def message_key(event: dict[str, Any]) -> str:
    """The message's id: the client's own (``metadata.message_id``), so that a message the
    client sent again after getting no answer is still one message; else Rasa's."""
    metadata = event.get("metadata")
    client_id = metadata.get("message_id") if isinstance(metadata, dict) else None
    if isinstance(client_id, str) and 0 < len(client_id) <= CLIENT_MESSAGE_ID_CHARS:
        return f"client:{client_id}"
    return str(event.get("message_id") or event.get("timestamp"))


def escalation_key(tracker: Tracker) -> str:
    """The key of an escalation on the latest turn: the conversation and the triggering
    message, by the client's own id of it when it has one (``message_key``). A retried action
    escalates the same turn again; so does the message sent again after Rasa died with the
    turn unstored, which Rasa gives a new id of its own (actions/relay.py ``handoff_lost``)."""
    latest = latest_customer_message(tracker) or {}
    key = f"{tracker.sender_id}:{message_key(latest)}"
    if len(key) <= ESCALATION_KEY_CHARS:
        return key
    return f"sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def sent_at(event: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(float(event.get("timestamp") or 0), UTC)


def latest_text(tracker: Tracker) -> str:
    """The latest message's text, stripped ("" for none)."""
    return str(tracker.latest_message.get("text") or "").strip()


#: The NLU confidence above which its intent decides a move no other check confirms (a
#: ticket for a request for a person, a long message taken as a yes or no).
NLU_CERTAINTY = 0.8


def nlu_is_sure(tracker: Tracker) -> bool:
    """Whether the NLU's intent for the latest message reaches :data:`NLU_CERTAINTY`."""
    intent = tracker.latest_message.get("intent") or {}
    return float(intent.get("confidence") or 0.0) >= NLU_CERTAINTY


def order_number(tracker: Tracker) -> str | None:
    """The order the customer named: in the latest message, else earlier (the slot)."""
    slot = tracker.get_slot(Slot.ORDER_NUMBER)
    return order_number_in(latest_text(tracker)) or (str(slot) if slot else None)


def remember_order_number(tracker: Tracker) -> list[EventType]:
    """Keep an order number the latest message names on the conversation."""
    named = order_number_in(latest_text(tracker))
    if named is None or named == tracker.get_slot(Slot.ORDER_NUMBER):
        return []
    return [SlotSet(Slot.ORDER_NUMBER, named)]
