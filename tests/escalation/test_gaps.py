"""Knowledge-gap mining on a fixture: paraphrases in two languages group together, unrelated
questions stand alone, and each group brings what agents answered (real embeddings)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy.orm import Session, sessionmaker

from escalation.analytics import Scope
from escalation.db import session_scope
from escalation.gaps import gap_clusters
from escalation.models import (
    Author,
    OutcomeKind,
    Ticket,
    TicketStatus,
    TranscriptMessage,
    TurnOutcome,
)
from knowledge import KnowledgeBase

pytestmark = pytest.mark.slow  # the sample FAQ's model embeds the questions

START = datetime(2026, 11, 30, 9, tzinfo=UTC)
QUESTIONS = [
    # language, question, what the bot did
    ("en", "can I pay with paypal", OutcomeKind.DECLINED),
    ("en", "do you accept paypal", OutcomeKind.DECLINED),
    ("en", "Do you take PayPal?", OutcomeKind.CLARIFIED),
    ("en", "do you ship to canada", OutcomeKind.DECLINED),
    ("en", "Is it possible to get my order shipped to Canada?", OutcomeKind.ANSWERED),  # 👎
    ("en", "who won the world cup", OutcomeKind.DECLINED),
    ("nl", "kan ik met paypal betalen", OutcomeKind.DECLINED),
    ("nl", "accepteren jullie paypal", OutcomeKind.DECLINED),
    ("nl", "leveren jullie in belgie", OutcomeKind.DECLINED),
    ("nl", "bezorgen jullie ook in België?", OutcomeKind.DECLINED),
    ("nl", "mijn hond blaft", OutcomeKind.DECLINED),
]


@pytest.fixture
def gaps(sessions: sessionmaker[Session], sample_kb: KnowledgeBase) -> sessionmaker[Session]:
    bar = sample_kb.same_question_bar()
    assert bar is not None and 0.5 < bar < 1.0  # learnt from the sample FAQ
    with session_scope(sessions) as session:
        for number, (language, question, kind) in enumerate(QUESTIONS):
            vector = np.asarray(sample_kb.embed_question(question), dtype=np.float16)
            session.add(
                TurnOutcome(
                    turn_key=f"c{number}:1",
                    conversation_id=f"c{number}",
                    occurred_at=START + timedelta(minutes=number),
                    channel="socketio",
                    language=language,
                    kind=kind,
                    entry_id="payment-methods" if "aypal" in question else "shipping-abroad",
                    helped=False if kind == OutcomeKind.ANSWERED else None,
                    question=question,
                    vector=vector.tobytes(),
                    vector_model="the model",
                    same_question_bar=bar,
                )
            )
        ticket = Ticket(
            escalation_key="c1:t",
            conversation_id="c1",
            channel="socketio",
            language="en",
            language_confidence=0.9,
            reason="customer_request",
            status=TicketStatus.RESOLVED,
        )
        ticket.messages = [
            TranscriptMessage(
                author=Author.AGENT, text="Yes, PayPal works at checkout.", sent_at=START
            )
        ]
        session.add(ticket)
    return sessions


def test_paraphrases_group_per_language_largest_first(gaps: sessionmaker[Session]) -> None:
    with gaps() as session:
        clusters = gap_clusters(session, Scope(START, START + timedelta(days=1)))
    grouped = {(c.language, frozenset(c.questions)) for c in clusters if c.size > 1}
    assert grouped == {
        ("en", frozenset({"can I pay with paypal", "do you accept paypal", "Do you take PayPal?"})),
        (
            "en",
            frozenset(
                {"do you ship to canada", "Is it possible to get my order shipped to Canada?"}
            ),
        ),
        ("nl", frozenset({"kan ik met paypal betalen", "accepteren jullie paypal"})),
        ("nl", frozenset({"leveren jullie in belgie", "bezorgen jullie ook in België?"})),
    }
    assert [c.size for c in clusters] == sorted((c.size for c in clusters), reverse=True)
    paypal = next(c for c in clusters if c.language == "en" and c.size == 3)
    assert (paypal.declined, paypal.clarified, paypal.not_helped) == (2, 1, 0)
    assert paypal.closest_entry == "payment-methods"
    assert paypal.agent_replies == ["Yes, PayPal works at checkout."]
    canada = next(c for c in clusters if "do you ship to canada" in c.questions)
    assert canada.not_helped == 1
    alone = {c.questions[0] for c in clusters if c.size == 1}
    assert alone == {"who won the world cup", "mijn hond blaft"}
    with gaps() as session:
        assert (
            gap_clusters(session, Scope(START, START + timedelta(days=1), "nl"))[0].language == "nl"
        )
        assert gap_clusters(session, Scope(START - timedelta(days=2), START)) == []
