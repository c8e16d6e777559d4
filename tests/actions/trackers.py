"""Recorded conversations for the actions' unit tests, in rasa_sdk's own test style: a
``Tracker`` built from events and slots, a ``CollectingDispatcher``, the action's events."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.outcomes import wait_for_writes


def user(
    text: str,
    intent: str = "faq",
    *,
    entities: list[dict[str, Any]] | None = None,
    message_id: str | None = None,
    timestamp: float = 1.0,
    confidence: float = 1.0,
    channel: str = "socketio",
) -> dict[str, Any]:
    """A customer's message event as Rasa records it (the NLU sure of ``intent``)."""
    return {
        "event": "user",
        "text": text,
        "timestamp": timestamp,
        "message_id": message_id or f"m-{timestamp}",
        "input_channel": channel,
        "parse_data": {
            "intent": {"name": intent, "confidence": confidence},
            "entities": entities or [],
        },
    }


def bot(text: str, timestamp: float = 1.5) -> dict[str, Any]:
    return {"event": "bot", "text": text, "timestamp": timestamp}


def tracker(events: list[dict[str, Any]], sender_id: str = "conv", **slots: Any) -> Tracker:
    """The conversation after ``events``; the latest user event is the message being handled."""
    latest = next(e for e in reversed(events) if e["event"] == "user")
    return Tracker(
        sender_id=sender_id,
        slots=slots,
        latest_message={
            **latest["parse_data"],
            "text": latest["text"],
            "message_id": latest["message_id"],
        },
        events=events,
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def run(action: Action, current: Tracker) -> tuple[CollectingDispatcher, list[dict[str, Any]]]:
    """Run the action as the action server would; what it said, and the events it returned."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, current, {}))
    wait_for_writes()  # the outcomes are written after the action returns
    return dispatcher, events


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    """The fixed responses said, or the text of free-text and custom messages, in order."""
    return [
        m.get("response")
        or m.get("text")
        or (m.get("custom") or {}).get("data", {}).get("text")
        or ""
        for m in dispatcher.messages
    ]


#: The slots the FAQ action sets on every turn, whatever else it does.
LANGUAGE_SLOTS = {"language", "language_confidence"}


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The slots the action set (the last value of each)."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
