"""The live FAQ: entries drafted from agents' replies or knowledge gaps, edited, published to
the running bot (within seconds, no restart), unpublished, with their history
(escalation/faq_entries.py). Reading is for every agent; writing for FAQ editors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from escalation import faq_entries
from escalation.api.deps import CurrentAgent, SessionDep
from escalation.api.responses import CONFLICT, NOT_EDITOR, NOT_FOUND, UNAUTHORIZED
from escalation.api.schemas import (
    MAX_ID,
    FaqEditIn,
    FaqEntryIn,
    FaqEntryOut,
    FaqRevisionOut,
    FaqVariantIn,
    FromGapIn,
    FromReplyIn,
)
from escalation.faq_entries import Variant
from escalation.models import FaqEntryStatus

router = APIRouter(prefix="/api/faq/entries", tags=["faq"], responses={**UNAUTHORIZED, **NOT_FOUND})
WRITE = {**NOT_EDITOR, **CONFLICT}
EntryKey = Annotated[int, Path(ge=1, le=MAX_ID)]


def variants_of(body: dict[str, FaqVariantIn]) -> dict[str, Variant]:
    return {
        lang: Variant.cleaned(variant.question, variant.answer, variant.alternatives)
        for lang, variant in body.items()
    }


@router.get("")
def list_entries(
    session: SessionDep,
    _: CurrentAgent,
    status_: Annotated[FaqEntryStatus | None, Query(alias="status")] = None,
) -> list[FaqEntryOut]:
    """The FAQ entries written in the console, latest change first (the YAML files' entries
    are not listed: `helpdesk kb export` writes the whole live FAQ)."""
    entries = faq_entries.list_entries(session, status=status_)
    return [FaqEntryOut.model_validate(entry) for entry in entries]


@router.post("", status_code=status.HTTP_201_CREATED, responses=WRITE)
def create_entry(body: FaqEntryIn, session: SessionDep, agent: CurrentAgent) -> FaqEntryOut:
    """A new draft; the bot answers with it once published."""
    entry = faq_entries.create_draft(
        session,
        agent=agent,
        entry_id=body.entry_id,
        variants=variants_of(body.variants),
        tags=body.tags,
    )
    session.commit()
    return FaqEntryOut.model_validate(entry)


@router.post("/from-reply", status_code=status.HTTP_201_CREATED, responses=WRITE)
def draft_from_reply(body: FromReplyIn, session: SessionDep, agent: CurrentAgent) -> FaqEntryOut:
    """A draft from an agent's reply: the customer's question before it, the reply as the
    answer, in the ticket's language; edit it, then publish."""
    entry = faq_entries.draft_from_reply(session, agent=agent, message_id=body.message_id)
    session.commit()
    return FaqEntryOut.model_validate(entry)


@router.post("/from-gap", status_code=status.HTTP_201_CREATED, responses=WRITE)
def draft_from_gap(body: FromGapIn, session: SessionDep, agent: CurrentAgent) -> FaqEntryOut:
    """A draft from a knowledge gap (GET /api/analytics/gaps): its first question, the
    others as alternatives, and the answer given."""
    entry = faq_entries.draft_from_questions(
        session, agent=agent, language=body.language, questions=body.questions, answer=body.answer
    )
    session.commit()
    return FaqEntryOut.model_validate(entry)


@router.get("/{entry_key}")
def read_entry(entry_key: EntryKey, session: SessionDep, _: CurrentAgent) -> FaqEntryOut:
    return FaqEntryOut.model_validate(faq_entries.get_entry(session, entry_id=entry_key))


@router.put("/{entry_key}", responses=WRITE)
def edit_entry(
    entry_key: EntryKey, body: FaqEditIn, session: SessionDep, agent: CurrentAgent
) -> FaqEntryOut:
    """New wording (a published entry is answered with as edited within seconds)."""
    entry = faq_entries.get_entry(session, entry_id=entry_key)
    faq_entries.edit(
        session, entry=entry, agent=agent, variants=variants_of(body.variants), tags=body.tags
    )
    session.commit()
    return FaqEntryOut.model_validate(entry)


@router.post("/{entry_key}/publish", responses=WRITE)
def publish(entry_key: EntryKey, session: SessionDep, agent: CurrentAgent) -> FaqEntryOut:
    """The running bot answers with it within seconds."""
    entry = faq_entries.get_entry(session, entry_id=entry_key)
    faq_entries.publish(session, entry=entry, agent=agent)
    session.commit()
    return FaqEntryOut.model_validate(entry)


@router.post("/{entry_key}/unpublish", responses=WRITE)
def unpublish(entry_key: EntryKey, session: SessionDep, agent: CurrentAgent) -> FaqEntryOut:
    """The running bot no longer answers with it (a YAML entry of its id comes back)."""
    entry = faq_entries.get_entry(session, entry_id=entry_key)
    faq_entries.unpublish(session, entry=entry, agent=agent)
    session.commit()
    return FaqEntryOut.model_validate(entry)


@router.get("/{entry_key}/history")
def history(entry_key: EntryKey, session: SessionDep, _: CurrentAgent) -> list[FaqRevisionOut]:
    """Who changed it, when, how, and the entry as it was after."""
    entry = faq_entries.get_entry(session, entry_id=entry_key)
    return [FaqRevisionOut.model_validate(revision) for revision in entry.revisions]
