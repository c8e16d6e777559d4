"""The bot's state as the actions see it: slot, action, entity and intent names, and the
question the bot is waiting on, typed in one place.

``domain.yml``, ``bot/data/rules.yml`` and ``bot/policies/handoff.py`` name the same things;
tests/actions/test_state.py fails when they and this module disagree.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Slot(StrEnum):
    LANGUAGE = "language"  # the conversation's language (responses render in it)
    LANGUAGE_CONFIDENCE = "language_confidence"
    LAST_FAQ_ENTRY = "last_faq_entry"  # the entry answered last
    TICKET_ID = "ticket_id"  # the conversation's latest ticket
    HANDOFF = "handoff"  # a person owns the conversation: the bot relays and stays quiet
    AWAITING = "awaiting"  # the question the bot asked on the latest turn (Awaiting)
    FAILED_TURNS = "failed_turns"  # turns in a row the bot could not answer
    TRIED_ENTRIES = "tried_entries"  # this turn's attempt; a ticket gathers them all
    ORDER_NUMBER = "order_number"  # the order the customer named, carried by an escalation
    LAST_DELIVERY_ID = "last_delivery_id"  # the latest outbox row said (escalation/delivery.py)


class ActionName(StrEnum):
    DETECT_LANGUAGE = "action_detect_language"
    ANSWER_FAQ = "action_answer_faq"
    ESCALATE = "action_escalate"
    YES_NO = "action_yes_no"
    THANKS = "action_thanks"
    RECORD_CSAT = "action_record_csat"
    TICKET_STATUS = "action_ticket_status"
    RELAY_TO_AGENT = "action_relay_to_agent"
    DELIVER = "action_deliver"


class Entity(StrEnum):
    FAQ_ENTRY = "faq_entry"  # a clarifying button's pick: /faq{"faq_entry": "<id>"}
    DELIVERY_ID = "delivery_id"  # the outbox row an EXTERNAL_delivery says
    RATING = "rating"  # a CSAT button: /rate{"rating": "4"}


class Intent(StrEnum):
    AFFIRM = "affirm"
    FAQ = "faq"
    NLU_FALLBACK = "nlu_fallback"  # FallbackClassifier: the NLU was unsure


class Question(StrEnum):
    """What the bot can ask that the next message answers."""

    ANSWER_FEEDBACK = "answer_feedback"  # "did this help?"
    ESCALATION_CONFIRM = "escalation_confirm"  # "shall I pass you to a person?"
    CSAT = "csat"  # "how would you rate the help you got?"


class Reason(StrEnum):
    """Why a conversation went to a person, as the ticket records it."""

    CUSTOMER_REQUEST = "customer_request"
    BOT_COULD_NOT_ANSWER = "bot_could_not_answer"
    ANSWER_DID_NOT_HELP = "answer_did_not_help"
    KEYWORD_RULE = "keyword_rule"  # stored as keyword_rule:<rule name>


@dataclass(frozen=True)
class Awaiting:
    """The bot's open question, kept in the `awaiting` slot with the customer turn it was
    asked on: an answer counts only on the very next turn."""

    kind: Question
    turn: int
    entry_id: str | None = None  # ANSWER_FEEDBACK: the answer asked about
    reason: str | None = None  # ESCALATION_CONFIRM: what a "yes" escalates with
    category: str | None = None
    priority: str | None = None
    ticket_id: int | None = None  # CSAT: the ticket rated

    def as_slot(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}

    @classmethod
    def from_slot(cls, value: object) -> Awaiting | None:
        """The slot's question, or None when it holds none (or something unreadable)."""
        if not isinstance(value, dict):
            return None
        try:
            return cls(
                kind=Question(value["kind"]),
                turn=int(value["turn"]),
                entry_id=_text(value.get("entry_id")),
                reason=_text(value.get("reason")),
                category=_text(value.get("category")),
                priority=_text(value.get("priority")),
                ticket_id=int(value["ticket_id"]) if value.get("ticket_id") else None,
            )
        except (KeyError, ValueError, TypeError):
            return None


def _text(value: object) -> str | None:
    return str(value) if value is not None else None
