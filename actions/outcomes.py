"""Record what the FAQ decided and what the customer thought of it (escalation/outcomes.py),
off the event loop; a failure to record is logged and never reaches the customer."""

from __future__ import annotations

import asyncio
import logging
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


async def record_answer(tracker: Tracker, answer: Answer) -> None:
    """The decision on the customer's latest message, once per message."""
    latest = latest_customer_message(tracker) or {}
    turn = latest.get("message_id") or str(latest.get("timestamp"))
    timestamp = latest.get("timestamp")
    candidate = answer.entry_id or next(
        (choice.entry_id for choice in answer.choices),
        answer.hits[0].entry_id if answer.hits else None,
    )
    dense = next((hit.dense for hit in answer.hits if hit.entry_id == candidate), None)
    kind = kind_of(answer)
    question = latest_text(tracker) or ""
    gap = await gap_vector(question) if kind != OutcomeKind.ANSWERED and question else None
    decision = outcomes.Decision(
        turn_key=f"{tracker.sender_id}:{turn}",
        conversation_id=tracker.sender_id,
        channel=tracker.get_latest_input_channel() or "unknown",
        language=answer.language.lang,
        kind=kind,
        entry_id=candidate,
        score=round(float(dense), 4) if dense is not None else None,
        question=question,
        occurred_at=(
            datetime.fromtimestamp(float(timestamp), UTC)
            if isinstance(timestamp, int | float)
            else datetime.now(UTC)
        ),
        gap_vector=gap,
    )
    try:
        await asyncio.to_thread(outcomes.record_decision, get_ticket_sessions(), decision)
    except Exception:
        logger.exception("outcome of %s not recorded", tracker.sender_id)


def kind_of(answer: Answer) -> OutcomeKind:
    if answer.clarifying:
        return OutcomeKind.CLARIFIED
    return OutcomeKind.ANSWERED if answer.answered else OutcomeKind.DECLINED


async def record_feedback(tracker: Tracker, *, helped: bool) -> None:
    """The customer's "did this help?" on the answer it was asked about."""
    question = asked(tracker, Question.ANSWER_FEEDBACK)
    entry_id = (question.entry_id if question else None) or tracker.get_slot(Slot.LAST_FAQ_ENTRY)
    try:
        unsettled = await asyncio.to_thread(
            outcomes.record_feedback,
            get_ticket_sessions(),
            conversation_id=tracker.sender_id,
            entry_id=str(entry_id) if entry_id else None,
            helped=helped,
        )
        if unsettled is not None:  # "it did not help": a knowledge gap, with its vector
            outcome_id, text = unsettled
            gap = await gap_vector(text)
            if gap is not None:
                await asyncio.to_thread(
                    outcomes.attach_gap_vector,
                    get_ticket_sessions(),
                    outcome_id=outcome_id,
                    gap=gap,
                )
    except Exception:
        logger.exception("feedback of %s not recorded", tracker.sender_id)


async def gap_vector(question: str) -> outcomes.GapVector | None:
    """The question's vector for gap mining (one more embedding, off the event loop, only
    for questions the FAQ did not settle); None if the model failed."""
    knowledge_base = get_knowledge_base()
    try:
        vector = await asyncio.to_thread(knowledge_base.embed_question, question)
        bar = await asyncio.to_thread(knowledge_base.same_question_bar)
    except Exception:
        logger.exception("no vector for a knowledge gap")
        return None
    return outcomes.GapVector(
        vector=np.asarray(vector, dtype=np.float16).tobytes(),
        model=get_settings().embedding_model,
        same_question_bar=bar,
    )
