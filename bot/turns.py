"""Two decisions about a customer's message, made on the conversation so far (Rasa's events)
before the message is understood; bot/launcher.py applies them inside Rasa's per-conversation
lock, where the tracker is loaded anyway.

- **Once**: a message whose ``metadata.message_id`` the conversation already holds is a
  platform's (or a careful client's) retry of a delivery that was handled: nothing is said,
  nothing is added. A retry of one that was not handled (the process died first) is handled.
- **Numbered options**: where buttons are numbered lines (WhatsApp, SMS) or press back their
  number (Telegram), a bare "2" right after the bot offered buttons is the second button.

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


def already_handled(events: Sequence[Any], message_id: str | None) -> bool:
    """The conversation holds a customer message with this id."""
    if not message_id:
        return False
    seen = 0
    for event in reversed(events):
        if type(event).__name__ != "UserUttered":
            continue
        if (getattr(event, "metadata", None) or {}).get("message_id") == message_id:
            return True
        seen += 1
        if seen >= RETRY_LOOKBACK_MESSAGES:
            break
    return False


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
