"""Decisions about a customer's message, made on the conversation so far (Rasa's events)
before the message is understood; bot/launcher.py applies them inside Rasa's per-conversation
lock, where the tracker is loaded anyway.

- **Once**: a message whose ``metadata.message_id`` the conversation already holds is a
  platform's (or a careful client's) retry of a delivery that was handled: nothing is added.
  A REST client, whose answer travels in the response it lost, gets the same answer again;
  a messaging app, whose answers went out by their own calls, gets nothing. A retry of one
  that was not handled (the process died first) is handled.
- **Numbered options**: where buttons are numbered lines (WhatsApp, SMS) or press back their
  number (Telegram), a bare "2" right after the bot offered buttons is the second button.
- **Short sessions**: a session of more than ``SESSION_EVENT_LIMIT`` events is closed at the
  customer's next turn and a new one begun with the slots carried over, as Rasa does after an
  idle hour. Rasa loads, replays and featurizes the latest session on every turn and sends it
  whole to the action server with every action call, so a turn late in a long conversation
  cost 14 times a first one; bounded sessions keep it flat. Not during a handoff: the relay
  looks back to where it began. The ticket's transcript still has the whole conversation
  (actions/escalation.py reads the earlier sessions).

Stdlib only, Python 3.10: runs in the Rasa server.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

#: How far back (customer messages) a retried message is looked for: platforms retry within
#: minutes, a conversation has not moved on by hundreds of messages in that time.
RETRY_LOOKBACK_MESSAGES = 200
NUMBER = re.compile(r"\s*(\d{1,2})\s*[.)]?\s*")
#: Events in a session before the next turn begins a new one: a dozen turns (about ten
#: events each), several times what the policies look back on (the rules' histories), so
#: no prediction changes; a performance bound, not a tuned answer rule.
SESSION_EVENT_LIMIT = 120
#: The slot set while a person owns the conversation (actions/state.py, Slot.HANDOFF).
HANDOFF_SLOT = "handoff"


def replies_to(events: Sequence[Any], message_id: str | None) -> list[dict[str, Any]] | None:
    """What the bot said after the customer message with this id (up to the customer's next
    message), as Rasa's output channels take it; None if the conversation holds no such
    message (within RETRY_LOOKBACK_MESSAGES)."""
    if not message_id:
        return None
    seen = 0
    said: list[dict[str, Any]] = []
    for event in reversed(events):
        kind = type(event).__name__
        if kind == "BotUttered":
            said.append({"text": event.text, **(getattr(event, "data", None) or {})})
            continue
        if kind != "UserUttered":
            continue
        if (getattr(event, "metadata", None) or {}).get("message_id") == message_id:
            return said[::-1]
        said = []
        seen += 1
        if seen >= RETRY_LOOKBACK_MESSAGES:
            break
    return None


def session_is_long(event_count: int, *, in_handoff: bool) -> bool:
    """The session should end before this turn (see the module's docstring)."""
    return event_count > SESSION_EVENT_LIMIT and not in_handoff


def latest_per_key(slot_events: Iterable[Any]) -> list[Any]:
    """Of SlotSet events, the last one of each slot, in order of first appearance: what a new
    session carries over (Rasa's carries every SlotSet of the old one, so each session began
    longer than the last)."""
    latest: dict[str, Any] = {}
    for event in slot_events:
        latest[event.key] = event
    return list(latest.values())


def chosen_button(events: Iterable[Any], text: str) -> str | None:
    """The payload of the button a bare number picks, when the bot's latest words (since the
    customer last spoke) offered buttons; None otherwise."""
    match = NUMBER.fullmatch(text)
    if match is None:
        return None
    buttons: list[dict[str, Any]] = []
    for event in reversed(list(events)):
        kind = type(event).__name__
        if kind == "UserUttered":
            break
        if kind == "BotUttered" and (getattr(event, "data", None) or {}).get("buttons"):
            buttons = event.data["buttons"]
            break
    number = int(match.group(1))
    if 1 <= number <= len(buttons):
        payload = buttons[number - 1].get("payload")
        return payload if isinstance(payload, str) else None
    return None
