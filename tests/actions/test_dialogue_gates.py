"""The checks that keep the NLU's guesses from making moves the customer did not ask for:
numbers are no ticket numbers, advice is no request for a person, a long "no" is a question.
Recorded trackers, the real sample FAQ and a real ticket database (no servers)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from actions.follow_up import ActionThanks
from actions.handoff import ActionTicketStatus
from actions.lexicon import (
    Concept,
    a_clause_opens_with,
    mentions,
    names_a_person,
    order_number_in,
)
from actions.request_person import ActionEscalate
from actions.state import Question
from actions.yes_no import ActionYesNo
from core.limits import MAX_MESSAGE_CHARS
from core.settings import PROJECT_ROOT
from escalation.db import session_scope
from escalation.models import Ticket
from knowledge import KnowledgeBase
from tests.actions.trackers import LANGUAGE_SLOTS, responses, run, slot_events, tracker, user

DID_IT_HELP = {"kind": Question.ANSWER_FEEDBACK, "turn": 1, "entry_id": "reset-password"}
OFFER = {"kind": Question.ESCALATION_CONFIRM, "turn": 1, "reason": "bot_could_not_answer"}


def tickets_in(sessions: sessionmaker[Session]) -> int:
    with session_scope(sessions) as session:
        return int(session.scalar(select(func.count()).select_from(Ticket)) or 0)


def second_turn(text: str, intent: str, awaiting: dict[str, Any], **parse: Any) -> Any:
    """A customer's reply right after the bot asked ``awaiting``."""
    return tracker(
        [user("how do I reset my password"), user(text, intent, timestamp=2.0, **parse)],
        awaiting=awaiting,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Wat is de status van mijn TICKET?", True),
        ("статус моей заявки", True),  # an inflection of заявка
        ("Πού βρίσκεται το αίτημά μου;", True),  # accents do not matter
        ("my order 48213 has not arrived", False),
        ("I ordered 3 items but only 2 arrived", False),
    ],
)
def test_a_ticket_word_in_any_language(text: str, expected: bool) -> None:
    assert mentions(Concept.TICKET, text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("je veux parler à un conseiller", True),
        ("vous pouvez me conseiller un bon film ?", False),  # advice, not an adviser
        ("позовите живого человека", True),
        ("can I exchange these shoes?", False),
        ("I want to talk to a human", True),
        ("Humanogrowth sambroda capsule", False),  # a brand, not a human
        ("Buche einen Platz für 4 Personen in Oklahoma", False),  # a headcount
        ("Ik wil een restaurant boeken voor tien mensen.", False),
        ("table for two, and then I want to speak to a person", True),
    ],
)
def test_a_person_word_is_a_noun_not_a_verb_brand_or_headcount(text: str, expected: bool) -> None:
    assert names_a_person(text) is expected


@pytest.mark.slow
def test_people_counted_are_no_request_for_a_person(
    faq: KnowledgeBase, ticket_sessions: sessionmaker[Session]
) -> None:
    """xSID's "Ich möchte ein Restaurant für sechs Personen" made a ticket (the NLU's request
    for a person at 0.99, "Personen" a person word): a headcount asks for nobody."""
    message = user(
        "ik wil een tafel voor zes personen reserveren", "request_human", confidence=0.99
    )
    said, _ = run(ActionEscalate(), tracker([message]))
    assert "utter_ticket_created" not in responses(said)
    assert tickets_in(ticket_sessions) == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi, when are you open?", True),
        ("tot hoe laat kan ik iemand bellen", True),
        ("I want to talk to someone when you have time", False),  # not where a clause opens
        ("can I speak to a person", False),
    ],
)
def test_a_question_about_a_time_opens_a_clause(text: str, expected: bool) -> None:
    assert a_clause_opens_with(Concept.WHEN, text) is expected


@pytest.mark.slow
def test_an_order_number_is_a_question_for_the_faq_not_a_ticket(
    faq: KnowledgeBase, ticket_sessions: sessionmaker[Session]
) -> None:
    message = user("my order 48213 has not arrived yet", "ticket_status")
    said, _ = run(ActionTicketStatus(), tracker([message]))
    expected = faq.entries["order-not-arrived"].variant_for("en", "en").answer
    assert said.messages[0]["text"] == expected
    assert "utter_ticket_not_found" not in responses(said)


@pytest.mark.slow
def test_a_person_is_not_called_for_a_question_the_faq_answers(
    faq: KnowledgeBase, ticket_sessions: sessionmaker[Session]
) -> None:
    message = user("can I exchange these shoes for another size?", "request_human")
    said, events = run(ActionEscalate(), tracker([message]))
    assert said.messages[0]["text"] == faq.entries["exchange-item"].variant_for("en", "en").answer
    assert "ticket_id" not in slot_events(events)
    assert tickets_in(ticket_sessions) == 0


@pytest.mark.slow
def test_an_unsure_request_for_a_person_gets_an_offer_not_a_ticket(
    faq: KnowledgeBase, ticket_sessions: sessionmaker[Session]
) -> None:
    message = user(
        "can a person tell me about the weather on Mars?", "request_human", confidence=0.6
    )
    said, events = run(ActionEscalate(), tracker([message]))
    assert responses(said) == ["utter_offer_human_after_failures"]
    assert slot_events(events)["awaiting"]["kind"] == Question.ESCALATION_CONFIRM
    assert tickets_in(ticket_sessions) == 0


@pytest.mark.slow
def test_a_question_that_names_no_person_is_a_question_however_sure_the_nlu(
    faq: KnowledgeBase, ticket_sessions: sessionmaker[Session]
) -> None:
    message = user("what's your favourite film?", "request_human", confidence=0.99)
    said, events = run(ActionEscalate(), tracker([message]))
    assert responses(said) == ["utter_not_sure"]
    assert slot_events(events)["failed_turns"] == 1
    assert tickets_in(ticket_sessions) == 0


@pytest.mark.slow
@pytest.mark.parametrize(
    "text",
    [
        "when are your customer service agents available?",
        "hallo, wanneer zijn jullie medewerkers bereikbaar?",
        "Ab wann sind Ihre Mitarbeiter erreichbar?",
        "à quelle heure un conseiller est-il disponible ?",
        "¿cuándo puedo hablar con un agente?",
        "a que horas os atendentes estão disponíveis?",
        "πότε είναι διαθέσιμοι οι υπάλληλοι;",
        "во сколько работают ваши операторы?",
    ],
)
def test_asking_when_people_are_there_is_no_request_for_one_now(
    faq: KnowledgeBase, ticket_sessions: sessionmaker[Session], text: str
) -> None:
    """However sure the NLU, "when are your agents available?" asks about opening hours: the
    FAQ is tried first, and a person only offered if it has no answer."""
    message = user(text, "request_human", confidence=0.99)
    said, _ = run(ActionEscalate(), tracker([message]))
    assert "utter_ticket_created" not in responses(said)
    assert tickets_in(ticket_sessions) == 0


def test_a_clear_request_names_a_person_and_the_nlu_is_sure(
    ticket_sessions: sessionmaker[Session],
) -> None:
    message = user("I want to talk to a human", "request_human", confidence=0.95)
    said, _ = run(ActionEscalate(), tracker([message], language="en"))
    assert responses(said) == ["utter_ticket_created"]
    assert tickets_in(ticket_sessions) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [("👍", "utter_glad_to_help"), ("👎👎", "utter_offer_human_after_failures")],
)
def test_an_emoji_answers_did_this_help(faq: KnowledgeBase, text: str, expected: str) -> None:
    from actions.faq import ActionAnswerFaq

    said, _ = run(ActionAnswerFaq(), second_turn(text, "faq", DID_IT_HELP))
    assert responses(said) == [expected]


def test_thanks_after_an_answer_means_it_helped() -> None:
    said, _ = run(ActionThanks(), second_turn("thanks!", "thankyou", DID_IT_HELP))
    assert responses(said) == ["utter_glad_to_help"]
    said, _ = run(ActionThanks(), tracker([user("thanks!", "thankyou")]))
    assert responses(said) == ["utter_you_are_welcome"]


def test_a_short_no_declines_the_offer() -> None:
    said, _ = run(ActionYesNo(), second_turn("no thanks", "deny", OFFER, confidence=0.7))
    assert responses(said) == ["utter_no_problem"]


@pytest.mark.slow
def test_a_long_message_the_nlu_only_guesses_is_a_no_is_a_new_question(
    faq: KnowledgeBase, ticket_sessions: sessionmaker[Session]
) -> None:
    question = "and how long does shipping take to Spain?"
    current = second_turn(question, "deny", OFFER, confidence=0.6)
    said, _ = run(ActionYesNo(), current)
    assert "utter_no_problem" not in responses(said)
    assert said.messages[0].get("text"), "the question is answered from the FAQ"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "intent", "expected"),
    [
        ("not delivered yet", "deny", "order-not-arrived"),  # "not" is a word of "no"
        ("coupon not accepted", "deny", "discount-code"),
        ("no", "deny", None),
        ("ok", "affirm", None),
        ("Please open Zvooq", "affirm", None),  # xSID: no yes, and nothing answered yet
    ],
)
def test_a_short_yes_or_no_with_nothing_asked_is_answered_when_the_faq_knows_it(
    faq: KnowledgeBase,
    ticket_sessions: sessionmaker[Session],
    text: str,
    intent: str,
    expected: str | None,
) -> None:
    said, events = run(ActionYesNo(), tracker([user(text, intent)], language="en"))
    answered_with = slot_events(events).get("last_faq_entry")
    if expected is None:
        # Nothing was answered: a yes is no "glad I could help" (test_follow_up.py has one
        # after an answer).
        not_sure = ["utter_not_sure"], ["utter_not_sure_suggestions"]
        assert responses(said) in ((["utter_ask_rephrase"],) if intent == "deny" else not_sure)
        assert answered_with is None
    else:
        assert answered_with == expected
        assert said.messages[0].get("text"), "the FAQ's answer itself"


def test_a_message_over_the_limit_gets_a_notice_not_a_lookup(faq: KnowledgeBase) -> None:
    from actions.faq import ActionAnswerFaq

    said, events = run(ActionAnswerFaq(), tracker([user("x" * (MAX_MESSAGE_CHARS + 1))]))
    assert responses(said) == ["utter_message_too_long"]
    assert set(slot_events(events)) == LANGUAGE_SLOTS


def test_the_widget_and_the_agent_api_share_the_limit() -> None:
    widget = (PROJECT_ROOT / "bot" / "widget" / "widget.js").read_text(encoding="utf-8")
    assert f'maxlength: "{MAX_MESSAGE_CHARS}"' in widget


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my order #48213 never came", "48213"),
        ("Waar is bestelling 100234?", "100234"),
        ("заказ № 55555 не пришёл", "55555"),
        ("my ticket 48213", None),  # no order word
        ("order 12 items", None),  # too short for an identifier
    ],
)
def test_an_order_number_needs_an_order_word_and_an_identifier(
    text: str, expected: str | None
) -> None:
    assert order_number_in(text) == expected
