"""The live FAQ: entries written in the console, drafted from an agent's reply or from a
knowledge gap, published to the running bot without a restart, unpublished, with a history.

The YAML files stay the FAQ of a fresh install; these entries join them (a published entry
with a YAML entry's id takes its place) and `helpdesk kb export` writes both back out. The
action servers watch :func:`live_version` and reload when it moves (actions/live_faq.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.languages import base_language
from escalation.errors import NotAnEditor, NotFoundError, TicketStateError
from escalation.models import (
    Agent,
    Author,
    FaqEntryRevision,
    FaqEntryStatus,
    LiveFaqEntry,
    Role,
    TranscriptMessage,
    utc_now,
)

EDITORS = frozenset({Role.EDITOR, Role.ADMIN})
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
SLUG = re.compile(r"[^a-z0-9]+")
MAX_SLUG = 60


@dataclass(frozen=True)
class Variant:
    question: str
    answer: str
    alternatives: tuple[str, ...] = ()

    @classmethod
    def cleaned(cls, question: str, answer: str, alternatives: list[str]) -> Variant:
        """Words as typed, without surrounding whitespace; blank alternatives dropped."""
        kept = tuple(text.strip() for text in alternatives if text.strip())
        return cls(question.strip(), answer.strip(), kept)

    def as_document(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "alternatives": list(self.alternatives),
            "answer": self.answer,
        }


def check_editor(agent: Agent) -> None:
    if agent.role not in EDITORS:
        raise NotAnEditor(
            f"{agent.name} is not an FAQ editor: an admin runs "
            f"`helpdesk agent role {agent.email} --editor`"
        )


def create_draft(
    session: Session,
    *,
    agent: Agent,
    entry_id: str,
    variants: dict[str, Variant],
    tags: list[str] | None = None,
    source_ticket_id: int | None = None,
) -> LiveFaqEntry:
    """A new draft (not yet answered with).

    Raises:
        NotAnEditor: ``agent`` may not write the FAQ.
        TicketStateError: an entry with this id exists already.
    """
    check_editor(agent)
    _check_languages(variants)
    entry = LiveFaqEntry(
        entry_id=entry_id,
        status=FaqEntryStatus.DRAFT,
        variants={lang: variant.as_document() for lang, variant in variants.items()},
        tags=list(tags or []),
        source_ticket_id=source_ticket_id,
        created_by_id=agent.id,
    )
    try:
        with session.begin_nested():
            session.add(entry)
    except IntegrityError:
        raise TicketStateError(f"an FAQ entry '{entry_id}' exists already") from None
    _revise(entry, agent, "drafted")
    return entry


def draft_from_reply(session: Session, *, agent: Agent, message_id: int) -> LiveFaqEntry:
    """A draft from an agent's reply: the customer's question before it, the reply as the
    answer, in the ticket's language.

    Raises:
        NotFoundError: no agent reply has this id.
    """
    reply = session.get(TranscriptMessage, message_id)
    if reply is None or reply.author != Author.AGENT:
        raise NotFoundError(f"No agent reply #{message_id}.")
    ticket = reply.ticket
    asked = [
        message.text
        for message in ticket.messages
        if message.author == Author.CUSTOMER and message.id < reply.id
    ]
    question = asked[-1] if asked else (ticket.preview or reply.text)
    variant = Variant(question=question, answer=reply.text)
    return create_draft(
        session,
        agent=agent,
        entry_id=unique_slug(session, question),
        variants={ticket.language: variant},
        source_ticket_id=ticket.id,
    )


def draft_from_questions(
    session: Session, *, agent: Agent, language: str, questions: list[str], answer: str
) -> LiveFaqEntry:
    """A draft from a knowledge gap: its first question, the others as alternatives; the
    answer may be left to write (a draft without one cannot be published)."""
    first, *others = questions
    variant = Variant(question=first, answer=answer, alternatives=tuple(others))
    return create_draft(
        session,
        agent=agent,
        entry_id=unique_slug(session, first),
        variants={language: variant},
    )


def edit(
    session: Session,
    *,
    entry: LiveFaqEntry,
    agent: Agent,
    variants: dict[str, Variant],
    tags: list[str] | None = None,
) -> None:
    """New wording; a published entry is answered with as edited at once."""
    check_editor(agent)
    _check_languages(variants)
    entry.variants = {lang: variant.as_document() for lang, variant in variants.items()}
    if tags is not None:
        entry.tags = list(tags)
    _revise(entry, agent, "edited")


def publish(session: Session, *, entry: LiveFaqEntry, agent: Agent) -> None:
    """The bot answers with it (within seconds).

    Raises:
        TicketStateError: a language has no question or no answer yet.
    """
    check_editor(agent)
    for lang, variant in sorted(entry.variants.items()):
        if (
            not str(variant.get("question") or "").strip()
            or not str(variant.get("answer") or "").strip()
        ):
            raise TicketStateError(
                f"FAQ entry '{entry.entry_id}' needs a question and an answer in '{lang}' "
                "before it is published"
            )
    entry.status = FaqEntryStatus.PUBLISHED
    _revise(entry, agent, "published")


def unpublish(session: Session, *, entry: LiveFaqEntry, agent: Agent) -> None:
    check_editor(agent)
    if entry.status != FaqEntryStatus.PUBLISHED:
        raise TicketStateError(f"FAQ entry '{entry.entry_id}' is not published")
    entry.status = FaqEntryStatus.UNPUBLISHED
    _revise(entry, agent, "unpublished")


def get_entry(session: Session, *, entry_id: int) -> LiveFaqEntry:
    entry = session.get(LiveFaqEntry, entry_id)
    if entry is None:
        raise NotFoundError(f"No FAQ entry #{entry_id}.")
    return entry


def list_entries(session: Session, *, status: FaqEntryStatus | None = None) -> list[LiveFaqEntry]:
    query = select(LiveFaqEntry).order_by(LiveFaqEntry.updated_at.desc())
    if status is not None:
        query = query.where(LiveFaqEntry.status == status)
    return list(session.scalars(query))


def live_version(session: Session) -> tuple[int, str | None]:
    """Changes to the live FAQ move this (entries, latest change): cheap to poll."""
    count, latest = session.execute(select(func.count(), func.max(LiveFaqEntry.updated_at))).one()
    return int(count), latest.isoformat() if latest else None


def published_documents(session: Session) -> list[dict[str, Any]]:
    """The published entries in the YAML files' shape (id, tags, variants)."""
    query = select(LiveFaqEntry).where(LiveFaqEntry.status == FaqEntryStatus.PUBLISHED)
    return [
        {"id": entry.entry_id, "tags": list(entry.tags), "variants": dict(entry.variants)}
        for entry in session.scalars(query.order_by(LiveFaqEntry.entry_id))
    ]


def unique_slug(session: Session, text: str) -> str:
    """An entry id from the question's words ('Do you take PayPal?' → 'do-you-take-paypal')."""
    base = SLUG.sub("-", text.lower()).strip("-")[:MAX_SLUG].strip("-") or "entry"
    taken = set(
        session.scalars(select(LiveFaqEntry.entry_id).where(LiveFaqEntry.entry_id.like(f"{base}%")))
    )
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def _check_languages(variants: dict[str, Variant]) -> None:
    wrong = sorted(lang for lang in variants if not LANGUAGE_CODE.match(lang))
    if wrong:
        raise TicketStateError(f"not a language code such as en or pt-BR: {', '.join(wrong)}")
    seen: dict[str, str] = {}
    for lang in sorted(variants):
        language = base_language(lang) or lang
        if language in seen:  # the bot answers per language: one of the two would never be said
            raise TicketStateError(f"{seen[language]} and {lang} are one language: keep one")
        seen[language] = lang
    blank = sorted(lang for lang, variant in variants.items() if not variant.question)
    if blank:
        raise TicketStateError(f"a question is needed in: {', '.join(blank)}")


def _revise(entry: LiveFaqEntry, agent: Agent, action: str) -> None:
    entry.updated_at = utc_now()
    entry.revisions.append(
        FaqEntryRevision(
            agent_id=agent.id, action=action, status=entry.status, variants=dict(entry.variants)
        )
    )
