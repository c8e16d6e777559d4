"""Conversation outcomes, recorded as they happen: each FAQ decision (answered, clarified,
declined) with its entry, score, language and channel, and the customer's "did this help?".

Written by the action server in its own short transaction; analytics (escalation/analytics.py)
and knowledge-gap mining read them without going back to Rasa's tracker. A retried action
records nothing twice: the turn's key is unique, and a second insert is a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from escalation.db import session_scope
from escalation.models import OutcomeKind, TurnOutcome

#: The customer's words kept per outcome: enough to read and to cluster.
QUESTION_CHARS = 1000
#: An answer asked about again this soon did not settle the question (verified deflection).
CAME_BACK_WITHIN = timedelta(hours=24)


@dataclass(frozen=True)
class Decision:
    """One FAQ decision on one customer message."""

    turn_key: str
    conversation_id: str
    channel: str
    language: str
    kind: OutcomeKind
    entry_id: str | None
    score: float | None
    question: str
    occurred_at: datetime
    #: For a question the FAQ did not settle: its vector and how to group it (GapVector).
    gap_vector: GapVector | None = None


@dataclass(frozen=True)
class GapVector:
    """A question's vector (float16 bytes) from ``model``, and the cosine at which that model
    and FAQ take two questions for the same one (knowledge/paraphrase.py)."""

    vector: bytes
    model: str
    same_question_bar: float | None


def record_decision(sessions: sessionmaker[Session], decision: Decision) -> bool:
    """Store the decision unless its turn has one; whether it was stored."""
    row = TurnOutcome(
        turn_key=decision.turn_key[:300],
        conversation_id=decision.conversation_id,
        channel=decision.channel[:50],
        language=decision.language[:16],
        kind=decision.kind,
        entry_id=decision.entry_id,
        score=decision.score,
        question=decision.question[:QUESTION_CHARS],
        occurred_at=decision.occurred_at,
    )
    if decision.gap_vector is not None:
        _attach(row, decision.gap_vector)
    try:
        with session_scope(sessions) as session:
            session.add(row)
            session.flush()
            _mark_came_back(session, row)
    except IntegrityError:
        return False  # this turn's decision is recorded already (a retried action)
    return True


def _mark_came_back(session: Session, row: TurnOutcome) -> None:
    """Earlier answers with the same entry in the same conversation, within 24 hours: the
    customer is back with the same question, so they did not settle it."""
    if row.entry_id is None:
        return
    session.execute(
        update(TurnOutcome)
        .where(
            TurnOutcome.conversation_id == row.conversation_id,
            TurnOutcome.entry_id == row.entry_id,
            TurnOutcome.kind == OutcomeKind.ANSWERED,
            TurnOutcome.id != row.id,
            TurnOutcome.occurred_at <= row.occurred_at,
            TurnOutcome.occurred_at >= row.occurred_at - CAME_BACK_WITHIN,
        )
        .values(came_back=True)
    )


def record_feedback(
    sessions: sessionmaker[Session], *, conversation_id: str, entry_id: str | None, helped: bool
) -> tuple[int, str] | None:
    """The customer's "did this help?" on the conversation's latest answer (with that entry,
    when known). For "it did not help": the row and its question, to be given its vector
    (:func:`attach_gap_vector`); None otherwise. A second reaction to the same answer wins."""
    with session_scope(sessions) as session:
        query = select(TurnOutcome).where(
            TurnOutcome.conversation_id == conversation_id,
            TurnOutcome.kind == OutcomeKind.ANSWERED,
        )
        if entry_id:
            query = query.where(TurnOutcome.entry_id == entry_id)
        latest = session.scalars(query.order_by(TurnOutcome.id.desc()).limit(1)).first()
        if latest is None:
            return None
        latest.helped = helped
        if helped or latest.vector is not None or not latest.question:
            return None
        return latest.id, latest.question


def attach_gap_vector(sessions: sessionmaker[Session], *, outcome_id: int, gap: GapVector) -> None:
    """An answer the customer said did not help becomes a knowledge gap with its vector."""
    with session_scope(sessions) as session:
        row = session.get(TurnOutcome, outcome_id)
        if row is not None:
            _attach(row, gap)


def _attach(row: TurnOutcome, gap: GapVector) -> None:
    row.vector, row.vector_model, row.same_question_bar = (
        gap.vector,
        gap.model[:200],
        gap.same_question_bar,
    )
