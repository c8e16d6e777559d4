"""Handing a conversation to a person: a ticket with the whole transcript, created once."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime, format_skeleton
from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import (
    answered,
    ask,
    escalation_key,
    latest_customer_message,
    message_key,
    order_number,
    sent_at,
)
from actions.runtime import get_sla_policy, get_ticket_sessions
from actions.state import Awaiting, Question, Reason, Slot
from core.settings import get_settings
from escalation import tickets, tracker_store
from escalation.models import Author, Priority, utc_now
from escalation.tickets import Escalation, TranscriptLine

logger = logging.getLogger(__name__)

#: What a ticket carries of the bot's attempts: the latest questions (top hits each).
TRIED_QUESTIONS_KEPT = 10


def offer_escalation(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    *,
    response: str,
    reason: str,
    category: str | None = None,
    priority: Priority = Priority.NORMAL,
) -> list[EventType]:
    """Ask before handing over (the trigger was implicit); a "yes" next turn escalates."""
    dispatcher.utter_message(response=response)
    return [
        ask(
            tracker,
            Question.ESCALATION_CONFIRM,
            reason=reason,
            category=category,
            priority=priority.value,
        ),
        SlotSet(Slot.FAILED_TURNS, 0),
    ]


async def answer_offer(
    dispatcher: CollectingDispatcher, tracker: Tracker, offer: Awaiting, *, accepted: bool
) -> list[EventType]:
    """The customer's yes or no to "shall I pass you to a person?"."""
    if not accepted:
        dispatcher.utter_message(response="utter_no_problem")
        return [answered(), SlotSet(Slot.FAILED_TURNS, 0)]
    escalated = await escalate(
        dispatcher,
        tracker,
        reason=offer.reason or Reason.CUSTOMER_REQUEST,
        category=offer.category,
        priority=offer.priority,
    )
    return [answered(), *escalated]


async def escalate(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    *,
    reason: str,
    category: str | None = None,
    priority: str | None = None,
) -> list[EventType]:
    """Create (or find) the ticket, tell the customer its id, and go quiet (handoff)."""
    escalation = escalation_from(
        tracker,
        reason=reason,
        category=category,
        priority=Priority(priority or "normal"),
        earlier_events=await asyncio.to_thread(earlier_sessions, tracker),
    )
    try:
        ticket_id = await asyncio.to_thread(
            tickets.hand_off, get_ticket_sessions(), escalation, get_sla_policy().routing
        )
    except Exception:
        logger.exception("escalation failed for conversation %s", tracker.sender_id)
        dispatcher.utter_message(response="utter_technical_problem")
        return []
    logger.info(
        "conversation %s: handed over as ticket #%s (%s)", tracker.sender_id, ticket_id, reason
    )
    dispatcher.utter_message(response="utter_ticket_created", ticket_id=ticket_id)
    calendar = get_sla_policy().calendar_for(get_sla_policy().team_for(category))
    now = utc_now()
    opens = calendar.next_open(now)
    if opens > now:  # nobody there now: say when someone will be
        language = str(tracker.get_slot(Slot.LANGUAGE) or get_settings().default_language)
        back_at = opening_in_words(opens, calendar.zone, language)
        dispatcher.utter_message(response="utter_back_at", back_at=back_at)
    return [
        SlotSet(Slot.TICKET_ID, str(ticket_id)),
        SlotSet(Slot.HANDOFF, True),
        answered(),
        SlotSet(Slot.FAILED_TURNS, 0),
    ]


def opening_in_words(moment: datetime, zone: ZoneInfo, language: str) -> str:
    """'Monday, December 7, 09:00 Central European Standard Time' in the customer's language
    and its own order (Babel's CLDR data)."""
    local = moment.astimezone(zone)
    try:
        locale = Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        locale = Locale.parse("en")
    day = format_skeleton("MMMMEEEEd", local, tzinfo=zone, locale=locale)
    hour = format_datetime(local, "HH:mm zzzz", tzinfo=zone, locale=locale)
    return f"{day}, {hour}"


def earlier_sessions(tracker: Tracker) -> list[dict[str, Any]]:
    """The conversation's events before the session Rasa sent (it sends only the latest: an
    idle hour or a long session begins a new one, see bot/launcher.py), so that the ticket's
    transcript is the whole conversation. Read from Rasa's tracker store when it is ours."""
    settings = get_settings()
    first = tracker.events[0].get("timestamp") if tracker.events else None
    no_store_yet = settings.tracker_store_url is None and not settings.tracker_db_path.exists()
    if first is None or no_store_yet:
        return []
    try:
        return tracker_store.conversation_events(
            settings.tracker_store,
            conversation_id=tracker.sender_id,
            before=float(first),
        )
    except Exception:  # the ticket still gets this session's transcript
        logger.exception("earlier sessions of %s could not be read", tracker.sender_id)
        return []


def escalation_from(
    tracker: Tracker,
    *,
    reason: str,
    category: str | None = None,
    priority: Priority = Priority.NORMAL,
    earlier_events: list[dict[str, Any]] | None = None,
) -> Escalation:
    """What the tracker knows (and the conversation's earlier sessions, when given), as an
    escalation keyed by the turn that triggered it."""
    latest = latest_customer_message(tracker) or {}
    confidence = tracker.get_slot(Slot.LANGUAGE_CONFIDENCE)
    metadata = latest.get("metadata") or {}
    contact = metadata.get("contact") if isinstance(metadata, dict) else None
    events = [*(earlier_events or []), *tracker.events]
    return Escalation(
        key=escalation_key(tracker),
        conversation_id=tracker.sender_id,
        channel=tracker.get_latest_input_channel() or "unknown",
        contact=str(contact)[:200] if contact else None,
        language=tracker.get_slot(Slot.LANGUAGE) or get_settings().default_language,
        language_confidence=float(confidence) if confidence is not None else 0.0,
        reason=str(reason),  # a Reason member is stored as its plain value
        category=category,
        priority=priority,
        tried_entries=attempts_in(events),
        order_number=order_number(tracker),
        transcript=transcript_of(events),
        deadlines=get_sla_policy().deadlines(utc_now(), priority, category),
    )


def attempts_in(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the bot tried since the conversation's last handoff ended, the latest
    TRIED_QUESTIONS_KEPT questions: each FAQ turn sets its own attempt (actions/faq.py), a
    handoff's end empties the slot, and the value a new session carries over (set before
    its first customer message) is one already counted."""
    attempts: list[dict[str, Any]] = []
    carried_over = False
    for event in events:
        kind = event.get("event")
        if kind in ("session_started", "user"):
            carried_over = kind == "session_started"
        elif kind == "slot" and event.get("name") == Slot.TRIED_ENTRIES and not carried_over:
            value = event.get("value")
            if isinstance(value, list) and value:
                attempts.extend(value)
            else:
                attempts.clear()
    return attempts[-TRIED_QUESTIONS_KEPT:]


def transcript_of(events: list[dict[str, Any]]) -> list[TranscriptLine]:
    """Every customer and bot turn with its time, in order, as the customer saw it.

    A button's payload shows as the button's title; a payload no button offered (the
    widget's opening ``/greet``) was never seen by the customer and is left out. Triggered
    EXTERNAL_* events are not turns: agents' words are on the ticket already.
    """
    lines = []
    titles: dict[str, str] = {}  # payload -> title of the buttons last offered
    for event in events:
        kind, text = event.get("event"), str(event.get("text") or "")
        if kind == "bot":
            titles = {
                str(button.get("payload")): str(button.get("title"))
                for button in (event.get("data") or {}).get("buttons") or []
            }
        if kind not in ("user", "bot") or not text or text.startswith("EXTERNAL: "):
            continue
        if kind == "user" and text.startswith("/"):
            if text not in titles:
                continue
            text = titles[text]
        if kind == "user":
            lines.append(TranscriptLine(Author.CUSTOMER, text, sent_at(event), message_key(event)))
        else:
            lines.append(TranscriptLine(Author.BOT, text, sent_at(event)))
    return lines
