"""The actions' conversation logic on rasa_sdk trackers (no servers needed)."""

from __future__ import annotations

import pytest

from actions.conversation import asked, customer_turns
from actions.request_person import ActionEscalate
from actions.state import Awaiting, Question
from actions.yes_no import ActionYesNo
from core.settings import get_settings
from knowledge import KnowledgeBase
from tests.actions.trackers import responses, run, tracker, user


def test_external_triggers_are_not_customer_turns() -> None:
    events = [user("hi", "greet"), user("EXTERNAL: x", "EXTERNAL_delivery"), user("ok", "affirm")]
    assert customer_turns(tracker(events)) == 2


@pytest.mark.slow
def test_a_yes_answers_only_the_question_asked_just_before(faq: KnowledgeBase) -> None:
    question = {"kind": "escalation_confirm", "turn": 1, "reason": "bot_could_not_answer"}
    fresh = tracker([user("mars weather?", "faq"), user("yes", "affirm")], awaiting=question)
    stale = tracker(
        [user("mars weather?", "faq"), user("hello", "greet"), user("yes", "affirm")],
        awaiting=question,
    )
    assert asked(fresh, Question.ESCALATION_CONFIRM) == Awaiting.from_slot(question)
    assert asked(stale, Question.ESCALATION_CONFIRM) is None
    said, _ = run(ActionYesNo(), stale)
    # Not a hand-over, and no "glad I could help": the bot has answered nothing.
    assert responses(said) == ["utter_not_sure"]
    said, _ = run(ActionYesNo(), tracker(stale.events, awaiting=question, last_faq_entry="x"))
    assert responses(said) == ["utter_glad_to_help"]  # a yes after an answer: it helped


def test_no_to_the_offer_keeps_the_bot() -> None:
    question = {"kind": "escalation_confirm", "turn": 1, "reason": "bot_could_not_answer"}
    current = tracker([user("mars weather?", "faq"), user("no", "deny")], awaiting=question)
    said, events = run(ActionYesNo(), current)
    assert responses(said) == ["utter_no_problem"]
    assert {"event": "slot", "name": "awaiting", "value": None, "timestamp": None} in events


def test_asking_for_a_person_when_that_trigger_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPDESK_ESCALATION_TRIGGERS", '["failed_turns"]')
    get_settings.cache_clear()
    try:
        said, events = run(ActionEscalate(), tracker([user("a human!", "request_human")]))
    finally:
        get_settings.cache_clear()
    assert responses(said) == ["utter_human_unavailable"]
    assert events == []
