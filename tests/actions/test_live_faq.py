"""The live FAQ in the action server: an entry published in the console is answered after
the next refresh, an unpublished one no longer; a draft changes nothing (real model)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from actions.live_faq import LiveFaq
from escalation import faq_entries
from escalation.auth import create_agent
from escalation.db import session_scope
from escalation.faq_entries import Variant
from escalation.models import LiveFaqEntry, Role
from knowledge import KnowledgeBase
from knowledge.policy_store import calibration_key, stored_calibration

pytestmark = pytest.mark.slow

QUESTION = "Do you sell gift cards?"


def test_published_is_answered_unpublished_is_not(
    sample_kb: KnowledgeBase, ticket_sessions: sessionmaker[Session]
) -> None:
    live = LiveFaq(sample_kb, ticket_sessions)
    assert live.refresh() is False and live.current is sample_kb  # nothing published yet
    assert live.current.answer(QUESTION, language="en").entry_id != "gift-cards"
    with session_scope(ticket_sessions) as session:
        eva = create_agent(
            session,
            email="eva@shop.nl",
            name="Eva",
            password="long enough secret",
            role=Role.EDITOR,
        )
        entry = faq_entries.create_draft(
            session,
            agent=eva,
            entry_id="gift-cards",
            variants={"en": Variant(QUESTION, "Yes: 25, 50 or 100 euro.", ("gift voucher",))},
        )
        session.flush()
        key = entry.id
    assert live.refresh() is False  # a draft: the bot says nothing new
    with session_scope(ticket_sessions) as session:
        faq_entries.publish(session, entry=session.get_one(LiveFaqEntry, key), agent=eva)
    assert live.refresh() is True
    interim = live.current
    # Answered at once, with the FAQ files' policy (not their off-topic anchors) ...
    assert interim.policy is sample_kb.policy and interim.calibration.off_topic is None
    answer = interim.answer(QUESTION, language="en")
    assert (answer.entry_id, answer.text) == ("gift-cards", "Yes: 25, 50 or 100 euro.")
    # ... until the live FAQ's own calibration is made (in the background) and swapped in.
    assert live.calibrating is not None
    live.calibrating.join(timeout=300)
    calibrated = live.current
    assert calibrated is not interim and calibrated.index.digest == interim.index.digest
    assert calibrated.calibration.key == calibration_key(calibrated.index)
    assert calibrated.calibration.key != sample_kb.calibration.key
    assert calibrated.calibration.off_topic is not None
    assert stored_calibration(calibrated.index, calibrated.index_dir) is not None  # a restart's
    answer = calibrated.answer(QUESTION, language="en")
    assert (answer.entry_id, answer.text) == ("gift-cards", "Yes: 25, 50 or 100 euro.")
    assert calibrated.answer("wachtwoord vergeten", language="nl").entry_id == "reset-password"
    with session_scope(ticket_sessions) as session:
        faq_entries.unpublish(session, entry=session.get_one(LiveFaqEntry, key), agent=eva)
    assert live.refresh() is True
    assert live.current is sample_kb  # the FAQ files alone, as they were
    assert live.current.answer(QUESTION, language="en").entry_id != "gift-cards"
