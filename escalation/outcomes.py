"""Conversation outcomes, recorded as they happen: each FAQ decision (answered, clarified,
declined) with its entry, score, language and channel, and the customer's "did this help?".

Written by the action server in its own short transaction; analytics (escalation/analytics.py)
and knowledge-gap mining read them without going back to Rasa's tracker. A retried action
records nothing twice: the turn's key is unique, and a second insert is a no-op.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from escalation.db import session_scope
from escalation.models import ConversationOutcome, OutcomeKind, TurnOutcome

#: The customer's words kept per outcome: enough to read and to cluster.
QUESTION_CHARS = 1000
#: What a conversation's row adds up (ConversationOutcome).
COUNTED = ("answered", "clarified", "declined", "helped", "not_helped", "came_back")
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
            came_back = _mark_came_back(session, row)
            tally(
                session,
                conversation_id=row.conversation_id,
                at=row.occurred_at,
                language=row.language,
                channel=row.channel,
                counts={str(row.kind): 1, "came_back": came_back},
            )
    except IntegrityError:
        return False  # this turn's decision is recorded already (a retried action)
    return True


def tally(
    session: Session,
    *,
    conversation_id: str,
    at: datetime,
    language: str,
    channel: str,
    counts: Mapping[str, int] | None = None,
    escalated: bool = False,
) -> None:
    """Add ``counts`` (answered, clarified, declined, helped, not_helped, came_back) to the
    conversation's row, made on its first outcome or ticket; mark it escalated."""
    if session.get(ConversationOutcome, conversation_id) is None:
        try:
            with session.begin_nested():
                session.add(
                    ConversationOutcome(
                        conversation_id=conversation_id,
                        started_at=at,
                        language=language[:16],
                        channel=channel[:50],
                        **dict.fromkeys(COUNTED, 0),
                        escalated=False,
                    )
                )
        except IntegrityError:
            pass  # another process made it a moment ago
    changes: dict[str, Any] = {
        name: getattr(ConversationOutcome, name) + amount
        for name, amount in (counts or {}).items()
        if amount
    }
    if escalated:
        changes["escalated"] = True
    if changes:
        session.execute(
            update(ConversationOutcome)
            .where(ConversationOutcome.conversation_id == conversation_id)
            .values(**changes)
        )


def _mark_came_back(session: Session, row: TurnOutcome) -> int:
    """Earlier answers with the same entry in the same conversation, within 24 hours: the
    customer is back with the same question, so they did not settle it. How many were
    marked now."""
    if row.entry_id is None:
        return 0
    marked = session.execute(
        update(TurnOutcome)
        .where(
            TurnOutcome.conversation_id == row.conversation_id,
            TurnOutcome.entry_id == row.entry_id,
            TurnOutcome.kind == OutcomeKind.ANSWERED,
            TurnOutcome.id != row.id,
            TurnOutcome.occurred_at <= row.occurred_at,
            TurnOutcome.occurred_at >= row.occurred_at - CAME_BACK_WITHIN,
            TurnOutcome.came_back.is_(False),
        )
        .values(came_back=True)
    )
    return int(marked.rowcount)  # type: ignore[attr-defined]


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
        if latest.helped != helped:  # a second reaction replaces the first in the totals
            before = {True: "helped", False: "not_helped"}.get(latest.helped)  # type: ignore[arg-type]
            counts = {"helped" if helped else "not_helped": 1} | ({before: -1} if before else {})
            tally(
                session,
                conversation_id=conversation_id,
                at=latest.occurred_at,
                language=latest.language,
                channel=latest.channel,
                counts=counts,
            )
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
