"""Reading the conversation from the tracker: customer turns and the bot's open question.

The question is remembered in the `awaiting` slot with the customer turn it was asked on;
an answer counts only on the very next turn, so a stale question never captures a later "yes".
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet

ANSWER_FEEDBACK = "answer_feedback"
ESCALATION_CONFIRM = "escalation_confirm"
CSAT = "csat"


def customer_turns(tracker: Tracker) -> int:
    """How many messages the customer sent (triggered EXTERNAL_* intents are not theirs)."""
    return sum(1 for event in tracker.events if _is_customer_message(event))


def _is_customer_message(event: dict[str, Any]) -> bool:
    if event.get("event") != "user":
        return False
    intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name") or ""
    return not str(intent).startswith("EXTERNAL_")


def ask(tracker: Tracker, kind: str, **details: Any) -> EventType:
    """Remember that the bot asked ``kind`` on this turn; the answer comes next turn."""
    return SlotSet("awaiting", {"kind": kind, "turn": customer_turns(tracker), **details})


def asked(tracker: Tracker, kind: str) -> dict[str, Any] | None:
    """The question of ``kind`` the latest message answers, if it answers one."""
    awaiting = tracker.get_slot("awaiting")
    if not isinstance(awaiting, dict) or awaiting.get("kind") != kind:
        return None
    return awaiting if awaiting.get("turn") == customer_turns(tracker) - 1 else None


def latest_customer_message(tracker: Tracker) -> dict[str, Any] | None:
    """The latest user event that the customer sent (not a triggered EXTERNAL_* intent)."""
    return next((e for e in reversed(tracker.events) if _is_customer_message(e)), None)


def sent_at(event: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(float(event.get("timestamp") or 0), UTC)
