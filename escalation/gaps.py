"""Knowledge gaps: the questions the FAQ did not settle, grouped by meaning, largest first.

A question is a gap when the bot declined it, asked which of two entries was meant, or
answered it and the customer said it did not help. The action server stores each one's
vector with the cosine at which its model and FAQ take two questions for the same one
(knowledge/paraphrase.py). Per language, scikit-learn's agglomerative clustering with single
linkage joins two questions when they are that close, so a group is a chain of "same
question" pairs: the bar is the FAQ's own, not a constant of ours. Each group comes with its
size, example questions, the FAQ entry it came closest to, and what agents answered in
those conversations: the material for a new FAQ entry.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import AgglomerativeClustering
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from escalation.analytics import Scope, outcomes_in
from escalation.models import Author, OutcomeKind, Ticket, TranscriptMessage, TurnOutcome

EXAMPLES = 5
AGENT_REPLIES = 3


@dataclass(frozen=True)
class GapCluster:
    language: str
    size: int
    conversations: int
    questions: list[str]  # examples, latest first, each once
    closest_entry: str | None  # the entry most of them came closest to
    declined: int
    clarified: int
    not_helped: int
    agent_replies: list[str]  # what agents answered in those conversations, latest first


@dataclass(frozen=True)
class _Gap:
    conversation_id: str
    question: str
    kind: OutcomeKind
    helped: bool | None
    entry_id: str | None
    bar: float | None
    vector: np.ndarray


def gap_clusters(session: Session, scope: Scope) -> list[GapCluster]:
    """The period's gaps, grouped per language, largest group first."""
    by_language: dict[str, list[_Gap]] = defaultdict(list)
    model = _latest_model(session, scope)
    if model is None:
        return []
    for language, gap in _gaps(session, scope, model):
        by_language[language].append(gap)
    clusters = [
        _describe(session, language, members)
        for language, gaps in by_language.items()
        for members in _group(gaps)
    ]
    return sorted(clusters, key=lambda cluster: (-cluster.size, cluster.language))


def _latest_model(session: Session, scope: Scope) -> str | None:
    """Vectors of one model only: an operator who changed models has two kinds."""
    query = (
        outcomes_in(scope, TurnOutcome.vector_model)
        .where(TurnOutcome.vector.is_not(None))
        .order_by(TurnOutcome.occurred_at.desc())
        .limit(1)
    )
    model = session.scalar(query)
    return str(model) if model else None


def _gaps(session: Session, scope: Scope, model: str) -> list[tuple[str, _Gap]]:
    query = (
        outcomes_in(
            scope,
            TurnOutcome.language,
            TurnOutcome.conversation_id,
            TurnOutcome.question,
            TurnOutcome.kind,
            TurnOutcome.helped,
            TurnOutcome.entry_id,
            TurnOutcome.same_question_bar,
            TurnOutcome.vector,
        )
        .where(
            TurnOutcome.vector_model == model,
            TurnOutcome.question.is_not(None),
            or_(TurnOutcome.kind != OutcomeKind.ANSWERED, TurnOutcome.helped.is_(False)),
        )
        .order_by(TurnOutcome.occurred_at.desc())
    )
    return [
        (
            language,
            _Gap(conversation, question, kind, helped, entry, bar, _unit(vector)),
        )
        for language, conversation, question, kind, helped, entry, bar, vector in session.execute(
            query
        )
        if vector
    ]


def _unit(blob: bytes) -> np.ndarray:
    vector = np.frombuffer(blob, dtype=np.float16).astype(np.float32)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


def _group(gaps: list[_Gap]) -> list[list[_Gap]]:
    """Single-linkage groups at the FAQ's "same question" cosine (their median bar)."""
    if len(gaps) == 1:
        return [gaps]
    bars = [gap.bar for gap in gaps if gap.bar is not None]
    if not bars:  # the FAQ could not say: every question stands alone
        return [[gap] for gap in gaps]
    clustering = AgglomerativeClustering(
        n_clusters=None,
        metric="cosine",
        linkage="single",
        distance_threshold=1.0 - statistics.median(bars),
    ).fit(np.stack([gap.vector for gap in gaps]))
    groups: dict[int, list[_Gap]] = defaultdict(list)
    for gap, label in zip(gaps, clustering.labels_, strict=True):
        groups[int(label)].append(gap)
    return list(groups.values())


def _describe(session: Session, language: str, members: list[_Gap]) -> GapCluster:
    kinds = Counter(gap.kind for gap in members)
    entries = Counter(gap.entry_id for gap in members if gap.entry_id)
    conversations = {gap.conversation_id for gap in members}
    return GapCluster(
        language=language,
        size=len(members),
        conversations=len(conversations),
        questions=list(dict.fromkeys(gap.question for gap in members))[:EXAMPLES],
        closest_entry=entries.most_common(1)[0][0] if entries else None,
        declined=kinds[OutcomeKind.DECLINED],
        clarified=kinds[OutcomeKind.CLARIFIED],
        not_helped=sum(1 for gap in members if gap.helped is False),
        agent_replies=_agent_replies(session, conversations),
    )


def _agent_replies(session: Session, conversations: set[str]) -> list[str]:
    query = (
        select(TranscriptMessage.text)
        .join(Ticket, Ticket.id == TranscriptMessage.ticket_id)
        .where(Ticket.conversation_id.in_(conversations), TranscriptMessage.author == Author.AGENT)
        .order_by(TranscriptMessage.sent_at.desc())
        .limit(AGENT_REPLIES)
    )
    return list(session.scalars(query))
