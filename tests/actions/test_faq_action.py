"""ActionAnswerFaq and its routing steps on recorded trackers, with the real sample FAQ and
a real ticket database (no servers)."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from actions.faq import ActionAnswerFaq, pick_payload, picked_entry, reply, topic_rule_for
from actions.state import Question
from core.settings import get_settings
from escalation import tickets
from escalation.auth import create_agent
from escalation.db import session_scope
from escalation.models import Author, OutcomeKind, Ticket, TicketStatus, TurnOutcome, utc_now
from escalation.tickets import Escalation, TranscriptLine
from knowledge import KnowledgeBase
from knowledge.decision import Answer, Choice, Match
from knowledge.language import DetectedLanguage
from tests.actions.trackers import LANGUAGE_SLOTS, bot, responses, run, slot_events, tracker, user

pytestmark = pytest.mark.slow  # the sample FAQ is embedded once per run


def test_a_question_the_faq_answers_gets_the_answer_and_did_this_help(
    faq: KnowledgeBase, settings_env: object, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO", logger="actions.faq"):
        said, events = run(ActionAnswerFaq(), tracker([user("how do I reset my password")]))
    ours = [record.getMessage() for record in caplog.records if record.name == "actions.faq"]
    assert ours == ["conversation conv [en]: answered reset-password (en)"]
    assert said.messages[0]["text"] == faq.entries["reset-password"].variant_for("en", "en").answer
    assert responses(said)[1:] == ["utter_did_this_help"]
    slots = slot_events(events)
    assert slots["last_faq_entry"] == "reset-password"
    assert slots["failed_turns"] == 0
    assert slots["awaiting"] == {
        "kind": Question.ANSWER_FEEDBACK,
        "turn": 1,
        "entry_id": "reset-password",
    }
    [attempt] = slots["tried_entries"]
    assert attempt["answered_with"] == "reset-password"
    assert attempt["answered_title"] == faq.title("reset-password", "en")
    best, *others = attempt["hits"]
    assert best["entry_id"] == "reset-password"
    assert (best["title"], best["match"]) == (faq.title("reset-password", "en"), Match.ANSWERABLE)
    assert all(Match(hit["match"]) for hit in others)


def test_a_turn_sets_only_the_slots_it_changes_and_always_its_attempt(
    faq: KnowledgeBase, settings_env: object
) -> None:
    """Every event is loaded, saved and sent with each later turn: none that repeats a value."""
    current = tracker(
        [user("how do I reset my password")],
        language="en",
        failed_turns=0,
        last_faq_entry="reset-password",
        tried_entries=[{"question": "earlier"}],
    )
    _, events = run(ActionAnswerFaq(), current)
    slots = slot_events(events)
    assert not {"language", "failed_turns", "last_faq_entry"} & set(slots)
    [attempt] = slots["tried_entries"]
    assert attempt["answered_with"] == "reset-password"


def test_the_answer_comes_in_the_conversation_language(
    faq: KnowledgeBase, settings_env: object
) -> None:
    current = tracker([user("wachtwoord vergeten")], language="nl", language_confidence=0.9)
    said, _ = run(ActionAnswerFaq(), current)
    assert said.messages[0]["text"] == faq.entries["reset-password"].variant_for("nl", "en").answer


def test_a_question_out_of_scope_is_declined_then_a_person_is_offered(
    faq: KnowledgeBase, settings_env: object
) -> None:
    question = "what is the capital of Mongolia"
    said, events = run(ActionAnswerFaq(), tracker([user(question)]))
    assert responses(said) == ["utter_not_sure"]
    assert slot_events(events)["failed_turns"] == 1

    again = tracker(
        [user(question), bot("not sure"), user(question, timestamp=2.0)], failed_turns=1
    )
    said, events = run(ActionAnswerFaq(), again)
    assert responses(said) == ["utter_offer_human_after_failures"]
    offer = slot_events(events)["awaiting"]
    assert offer["kind"] == Question.ESCALATION_CONFIRM
    assert offer["reason"] == "bot_could_not_answer"


def test_a_picked_button_answers_that_entry(faq: KnowledgeBase, settings_env: object) -> None:
    pick = [{"entity": "faq_entry", "value": "refund-time"}]
    current = tracker([user(pick_payload("refund-time"), entities=pick)], language="de")
    assert picked_entry(current) == "refund-time"
    said, _ = run(ActionAnswerFaq(), current)
    assert said.messages[0]["text"] == faq.entries["refund-time"].variant_for("de", "en").answer


def test_a_forged_or_stale_pick_is_not_answered(faq: KnowledgeBase, settings_env: object) -> None:
    pick = [{"entity": "faq_entry", "value": "no-such-entry"}]
    said, events = run(ActionAnswerFaq(), tracker([user("/faq", entities=pick)]))
    assert responses(said) == ["utter_not_sure"]
    assert events == []


def test_an_empty_message_is_answered_without_a_lookup(faq: KnowledgeBase) -> None:
    said, events = run(ActionAnswerFaq(), tracker([user("   ")]))
    assert responses(said) == ["utter_empty_message"]
    assert set(slot_events(events)) == LANGUAGE_SLOTS  # resolved, as on every turn


def test_a_topic_rule_offers_a_person_with_its_category_and_priority(
    faq: KnowledgeBase, settings_env: object
) -> None:
    text = "you charged me twice for one order"
    rule = topic_rule_for(text)
    assert rule is not None and rule.category == "billing"
    said, events = run(ActionAnswerFaq(), tracker([user(text)]))
    assert responses(said) == ["utter_offer_human_for_topic"]
    offer = slot_events(events)["awaiting"]
    assert (offer["reason"], offer["category"], offer["priority"]) == (
        "keyword_rule:charged twice",
        "billing",
        "high",
    )


def test_topic_rules_are_off_when_their_trigger_is(
    settings_env: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HELPDESK_ESCALATION_TRIGGERS", '["customer_request"]')
    get_settings.cache_clear()
    assert topic_rule_for("you charged me twice") is None


def test_two_close_entries_become_a_question_with_one_button_each() -> None:
    language = DetectedLanguage("en", 0.9)
    choices = (
        Choice("refund-time", "When do I get my refund?"),
        Choice("return-policy", "Can I return it?"),
    )
    answer = Answer(None, None, "en", language, choices=choices)
    dispatcher = CollectingDispatcher()
    events = reply(dispatcher, tracker([user("refund return")]), answer)
    [message] = dispatcher.messages
    assert message["response"] == "utter_which_question"
    assert [b["payload"] for b in message["buttons"]] == [
        '/faq{"faq_entry": "refund-time"}',
        '/faq{"faq_entry": "return-policy"}',
    ]
    assert events == []


def test_a_declined_question_offers_the_entries_that_fit_best(
    faq: KnowledgeBase, settings_env: object
) -> None:
    """Below the answer bar, the entries above the suggestion bar come as buttons: the
    customer picks one instead of rephrasing. It still counts as a turn not answered."""
    said, events = run(ActionAnswerFaq(), tracker([user("the mug came in pieces")]))
    [message] = said.messages
    assert message["response"] == "utter_not_sure_suggestions"
    assert pick_payload("damaged-item") in [button["payload"] for button in message["buttons"]]
    assert faq.title("damaged-item", "en") in [button["title"] for button in message["buttons"]]
    assert slot_events(events)["failed_turns"] == 1


def test_a_digit_after_the_rating_question_rates_the_resolved_ticket(
    faq: KnowledgeBase, ticket_sessions: sessionmaker[Session]
) -> None:
    ticket_id = resolved_ticket(ticket_sessions, conversation_id="conv")
    asked_rating = {"kind": "csat", "turn": 1, "ticket_id": ticket_id}
    current = tracker([user("thanks", "thanks"), user("4", timestamp=2.0)], awaiting=asked_rating)
    said, events = run(ActionAnswerFaq(), current)
    assert responses(said) == ["utter_thanks_for_rating"]
    assert slot_events(events) == {"awaiting": None, "language": "en", "language_confidence": 0.0}
    with session_scope(ticket_sessions) as session:
        stored = session.get(Ticket, ticket_id)
        assert stored is not None and stored.csat == 4


def resolved_ticket(sessions: sessionmaker[Session], *, conversation_id: str) -> int:
    """A ticket an agent has resolved, as the bot finds it when it asks for a rating."""
    escalation = Escalation(
        key=f"{conversation_id}:1",
        conversation_id=conversation_id,
        channel="socketio",
        language="en",
        language_confidence=0.9,
        reason="customer_request",
        transcript=[TranscriptLine(Author.CUSTOMER, "a person please", utc_now())],
    )
    ticket_id = tickets.hand_off(sessions, escalation)
    with session_scope(sessions) as session:
        agent = create_agent(
            session, email="a@example.com", name="Ann", password="long enough secret"
        )
        ticket = tickets.get_ticket(session, ticket_id=ticket_id)
        tickets.change_status(session, ticket=ticket, agent=agent, status=TicketStatus.RESOLVED)
    return ticket_id


def test_each_decision_is_recorded_once_and_the_feedback_lands_on_its_answer(
    faq: KnowledgeBase, ticket_sessions: sessionmaker[Session]
) -> None:
    """Outcomes as they happen (escalation/outcomes.py): a retried action records nothing
    twice; "did this help? no" marks the answer it was asked about."""
    question = user("how do I reset my password", message_id="m-1")
    run(ActionAnswerFaq(), tracker([question]))
    run(ActionAnswerFaq(), tracker([question]))  # Rasa retried the action
    declined = user("what is the capital of Mongolia", message_id="m-2", timestamp=3.0)
    run(ActionAnswerFaq(), tracker([question, bot("…"), declined], language="en"))
    asked_about = {"kind": Question.ANSWER_FEEDBACK, "turn": 1, "entry_id": "reset-password"}
    thumbs_down = tracker(
        [question, bot("Did this answer your question?"), user("👎", timestamp=2.0)],
        awaiting=asked_about,
    )
    run(ActionAnswerFaq(), thumbs_down)
    with ticket_sessions() as session:
        rows = session.scalars(select(TurnOutcome).order_by(TurnOutcome.id)).all()
        assert [(r.kind, r.entry_id, r.helped, r.language, r.channel) for r in rows] == [
            (OutcomeKind.ANSWERED, "reset-password", False, "en", "socketio"),
            (OutcomeKind.DECLINED, rows[1].entry_id, None, "en", "socketio"),
        ]
        assert rows[0].question == "how do I reset my password"
        assert rows[0].score is not None and 0 < rows[0].score <= 1
        assert rows[0].turn_key == "conv:m-1"
        # Both are knowledge gaps (declined; "did not help"): each has its vector and bar.
        assert all(row.vector and row.same_question_bar for row in rows)
        assert {row.vector_model for row in rows} == {get_settings().embedding_model}


OFFER = {"kind": "escalation_confirm", "turn": 1, "reason": "bot_could_not_answer"}
FEEDBACK = {"kind": "answer_feedback", "turn": 1, "entry_id": "reset-password"}


@pytest.mark.parametrize(
    ("question", "reply", "said_first"),
    [
        (OFFER, "όχι ευχαριστώ", "utter_no_problem"),
        (FEEDBACK, "yes, thank you", "utter_glad_to_help"),
        (FEEDBACK, "nee, bedankt", "utter_offer_human_after_failures"),
    ],
)
def test_a_reply_the_nlu_was_unsure_of_answers_the_question_by_its_first_word(
    faq: KnowledgeBase, question: dict[str, str], reply: str, said_first: str
) -> None:
    """ "όχι ευχαριστώ" is half "no", half "thanks" to the NLU (nlu_fallback): right after a
    yes-or-no question its "όχι" answers it, instead of a FAQ search for "no thanks"."""
    events = [
        user("what is the weather on mars", "faq"),
        user(reply, "nlu_fallback", confidence=0.55),
    ]
    said, returned = run(ActionAnswerFaq(), tracker(events, awaiting=question))
    assert responses(said)[0] == said_first
    if said_first != "utter_offer_human_after_failures":  # that asks a new question
        assert slot_events(returned)["awaiting"] is None


@pytest.mark.parametrize(
    ("awaiting", "reply"),
    [
        (None, "όχι ευχαριστώ"),  # no question open
        (OFFER, "no, my parcel never arrived"),  # a statement, not a reply
    ],
)
def test_an_unsure_reply_is_no_answer_when_no_question_is_open_or_it_says_more(
    faq: KnowledgeBase, awaiting: dict[str, str] | None, reply: str
) -> None:
    events = [
        user("what is the weather on mars", "faq"),
        user(reply, "nlu_fallback", confidence=0.55),
    ]
    said, _ = run(ActionAnswerFaq(), tracker(events, awaiting=awaiting))
    assert not {"utter_no_problem", "utter_glad_to_help"} & set(responses(said))


@pytest.mark.parametrize(
    "reply",
    [
        "still doesn't work",
        "werkt nog steeds niet",
        "funktioniert immer noch nicht",
        "ça ne marche toujours pas",
        "sigue sin funcionar",
        "ainda não funciona",
        "ακόμα δεν λειτουργεί",
        "всё ещё не работает",
        "it still does not work",
        "still no luck, sorry",
    ],
)
def test_a_problem_still_there_after_an_answer_is_a_no_to_did_this_help(
    faq: KnowledgeBase, reply: str
) -> None:
    """The NLU takes "still doesn't work" for a question, and the FAQ would answer its words
    ("work": "my discount code does not work"); after "did this help?" it says no."""
    events = [user("how do I reset my password", "faq"), user(reply, "faq")]
    said, _ = run(ActionAnswerFaq(), tracker(events, awaiting=FEEDBACK))
    assert responses(said) == ["utter_offer_human_after_failures"]


@pytest.mark.parametrize(
    ("awaiting", "reply"),
    [
        (FEEDBACK, "can I still return it?"),  # "still" without a "not": a new question
        # both words, but not one phrase: a new question
        (FEEDBACK, "I don't have an account, can I still order?"),
        (FEEDBACK, "ik heb geen account, kan ik nog steeds bestellen?"),
        (None, "still doesn't work"),  # nothing asked: searched as any message
    ],
)
def test_still_is_a_no_only_with_a_not_and_only_after_did_this_help(
    faq: KnowledgeBase, awaiting: dict[str, str] | None, reply: str
) -> None:
    events = [user("how do I reset my password", "faq"), user(reply, "faq")]
    said, _ = run(ActionAnswerFaq(), tracker(events, awaiting=awaiting))
    assert "utter_offer_human_after_failures" not in responses(said)
