"""A retried message is found in the conversation; a bare number picks the button offered;
what is worth embedding before the NLU runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.turns import (
    RETRY_LOOKBACK_MESSAGES,
    SESSION_EVENT_LIMIT,
    chosen_button,
    latest_per_key,
    replies_to,
    session_is_long,
)
from core.limits import MAX_MESSAGE_CHARS, typed_within_limit


@dataclass
class UserUttered:  # the name is what bot/turns.py reads, as Rasa's events are named
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class BotUttered:
    text: str
    data: dict[str, Any] = field(default_factory=dict)


YES_NO = {"buttons": [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]}


def test_a_message_id_the_conversation_holds_is_handled_already() -> None:
    events = [
        UserUttered("hi", {"message_id": "telegram:7"}),
        BotUttered("Hello!"),
        BotUttered("Did this help?", YES_NO),
        UserUttered("yes", {"message_id": "telegram:8"}),
        BotUttered("Glad to hear it."),
    ]
    assert replies_to(events, "telegram:7") == [
        {"text": "Hello!"},
        {"text": "Did this help?", **YES_NO},
    ]
    assert replies_to(events, "telegram:8") == [{"text": "Glad to hear it."}]
    assert replies_to(events, "telegram:9") is None
    assert replies_to(events, None) is None


def test_only_recent_messages_are_searched() -> None:
    old = [UserUttered("hi", {"message_id": "slack:Ev1"})]
    newer = [
        UserUttered(f"m{n}", {"message_id": f"slack:Ev{n + 2}"})
        for n in range(RETRY_LOOKBACK_MESSAGES)
    ]
    assert replies_to(old + newer, "slack:Ev1") is None
    assert replies_to(old + newer[:-1], "slack:Ev1") == []


def test_a_bare_number_picks_the_button_just_offered() -> None:
    events = [
        UserUttered("how long is delivery"),
        BotUttered("3-5 days"),
        BotUttered("Did this help?", YES_NO),
    ]
    assert chosen_button(events, "2") == "/deny"
    assert chosen_button(events, " 1. ") == "/affirm"
    assert chosen_button(events, "3") is None  # no third option
    assert chosen_button(events, "2 items arrived") is None  # words, not a choice


def test_a_number_after_the_customer_moved_on_is_just_a_number() -> None:
    events = [
        BotUttered("Did this help?", YES_NO),
        UserUttered("where is order 48213"),
        BotUttered("Sorry"),
    ]
    assert chosen_button(events, "1") is None


@dataclass
class SlotSet:
    key: str
    value: Any


def test_a_long_session_ends_unless_a_person_has_the_conversation() -> None:
    assert not session_is_long(SESSION_EVENT_LIMIT, in_handoff=False)
    assert session_is_long(SESSION_EVENT_LIMIT + 1, in_handoff=False)
    assert not session_is_long(SESSION_EVENT_LIMIT + 1, in_handoff=True)


def test_a_new_session_carries_each_slot_once_with_its_latest_value() -> None:
    events = [SlotSet("language", "en"), SlotSet("awaiting", "x"), SlotSet("language", "nl")]
    carried = latest_per_key(events)
    assert [(e.key, e.value) for e in carried] == [("language", "nl"), ("awaiting", "x")]


@dataclass
class Slots:
    values: dict[str, Any] = field(default_factory=dict)

    def get_slot(self, name: str) -> Any:
        return self.values.get(name)


def test_only_a_typed_message_within_the_limit_is_embedded_ahead() -> None:
    """What Rasa sends to /embed-ahead before it loads the conversation (bot/launcher.py)."""
    assert typed_within_limit("where is my parcel")
    assert not typed_within_limit('/faq{"faq_entry": "refund-time"}')  # a button
    assert not typed_within_limit("")
    assert not typed_within_limit("x" * (MAX_MESSAGE_CHARS + 1))  # gets a notice
