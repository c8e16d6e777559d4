"""Record what the FAQ decided and what the customer thought of it (escalation/outcomes.py),
off the event loop; a failure to record is logged and never reaches the customer."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from rasa_sdk import Tracker

from actions.conversation import asked, latest_customer_message, latest_text
from actions.runtime import get_ticket_sessions
from actions.state import Question, Slot
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
    decision = outcomes.Decision(
        turn_key=f"{tracker.sender_id}:{turn}",
        conversation_id=tracker.sender_id,
        channel=tracker.get_latest_input_channel() or "unknown",
        language=answer.language.lang,
        kind=kind_of(answer),
        entry_id=candidate,
        score=round(float(dense), 4) if dense is not None else None,
        question=latest_text(tracker) or "",
        occurred_at=(
            datetime.fromtimestamp(float(timestamp), UTC)
            if isinstance(timestamp, int | float)
            else datetime.now(UTC)
        ),
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
        await asyncio.to_thread(
            outcomes.record_feedback,
            get_ticket_sessions(),
            conversation_id=tracker.sender_id,
            entry_id=str(entry_id) if entry_id else None,
            helped=helped,
        )
    except Exception:
        logger.exception("feedback of %s not recorded", tracker.sender_id)
