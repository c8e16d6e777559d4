"""Record what the FAQ decided and what the customer thought of it (escalation/outcomes.py).

The records are analytics, not part of the reply: they are written on one thread of their
own after the action has returned (a decision's write took about 5 ms of a FAQ turn, all of
it before the customer saw the answer). One thread keeps them in order, so the feedback on an
answer always finds the answer's row; work still queued when the server stops is finished
before the process exits (concurrent.futures waits for it). A failure to record is logged
and never reaches the customer."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
from rasa_sdk import Tracker

from actions.conversation import asked, latest_customer_message, latest_text
from actions.runtime import get_knowledge_base, get_ticket_sessions
from actions.state import Question, Slot
from core.settings import get_settings
from escalation import outcomes
from escalation.models import OutcomeKind
from knowledge import Answer

logger = logging.getLogger(__name__)

#: The one thread that writes outcomes, in the order the turns gave them.
WRITER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outcomes")


def record_answer(tracker: Tracker, answer: Answer) -> None:
    """The decision on the customer's latest message, once per message (written later)."""
    latest = latest_customer_message(tracker) or {}
    turn = latest.get("message_id") or str(latest.get("timestamp"))
    timestamp = latest.get("timestamp")
    candidate = answer.entry_id or next(
        (choice.entry_id for choice in answer.choices),
        answer.hits[0].entry_id if answer.hits else None,
    )
    dense = next((hit.dense for hit in answer.hits if hit.entry_id == candidate), None)
    kind = kind_of(answer)
    decision = outcomes.Decision(
        turn_key=f"{tracker.sender_id}:{turn}",
        conversation_id=tracker.sender_id,
        channel=tracker.get_latest_input_channel() or "unknown",
        language=answer.language.lang,
        kind=kind,
        entry_id=candidate,
        score=round(float(dense), 4) if dense is not None else None,
        question=latest_text(tracker) or "",
        occurred_at=(
            datetime.fromtimestamp(float(timestamp), UTC)
            if isinstance(timestamp, int | float)
            else datetime.now(UTC)
        ),
    )
    WRITER.submit(write_decision, decision)


def write_decision(decision: outcomes.Decision) -> None:
    """Store ``decision``; one the FAQ did not settle is a knowledge gap and gets its vector."""
    try:
        if decision.kind != OutcomeKind.ANSWERED and decision.question:
            decision = replace(decision, gap_vector=gap_vector(decision.question))
        outcomes.record_decision(get_ticket_sessions(), decision)
    except Exception:
        logger.exception("outcome of %s not recorded", decision.conversation_id)


def kind_of(answer: Answer) -> OutcomeKind:
    if answer.clarifying:
        return OutcomeKind.CLARIFIED
    return OutcomeKind.ANSWERED if answer.answered else OutcomeKind.DECLINED


def record_feedback(tracker: Tracker, *, helped: bool) -> None:
    """The customer's "did this help?" on the answer it was asked about (written later)."""
    question = asked(tracker, Question.ANSWER_FEEDBACK)
    entry_id = (question.entry_id if question else None) or tracker.get_slot(Slot.LAST_FAQ_ENTRY)
    WRITER.submit(
        write_feedback,
        conversation_id=tracker.sender_id,
        entry_id=str(entry_id) if entry_id else None,
        helped=helped,
    )


def write_feedback(*, conversation_id: str, entry_id: str | None, helped: bool) -> None:
    """Mark the answer; one that did not help becomes a knowledge gap with its vector."""
    sessions = get_ticket_sessions()
    try:
        unsettled = outcomes.record_feedback(
            sessions, conversation_id=conversation_id, entry_id=entry_id, helped=helped
        )
        if unsettled is not None:
            outcome_id, text = unsettled
            gap = gap_vector(text)
            if gap is not None:
                outcomes.attach_gap_vector(sessions, outcome_id=outcome_id, gap=gap)
    except Exception:
        logger.exception("feedback of %s not recorded", conversation_id)


def wait_for_writes() -> None:
    """Return once everything submitted so far is written (tests and benchmarks read it)."""
    WRITER.submit(lambda: None).result()


def gap_vector(question: str) -> outcomes.GapVector | None:
    """The question's vector for gap mining (usually the search's own, kept by the knowledge
    base); None if the model failed."""
    knowledge_base = get_knowledge_base()
    try:
        vector = knowledge_base.embed_question(question)
        bar = knowledge_base.same_question_bar()
    except Exception:
        logger.exception("no vector for a knowledge gap")
        return None
    return outcomes.GapVector(
        vector=np.asarray(vector, dtype=np.float16).tobytes(),
        model=get_settings().embedding_model,
        same_question_bar=bar,
    )
