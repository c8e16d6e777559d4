"""What the bot resolved and where it failed, from recorded outcomes and tickets.

Every figure is over a period (``since`` ≤ moment < ``until``), optionally one language or
channel, and reads only that period's rows through the indexes on ``occurred_at`` and
``escalated_at`` (no scan of the whole history per chart):

- *conversations*: those with an FAQ decision or a ticket in the period;
- *contained*: of those, the ones without a ticket (nobody needed a person);
- *verified deflections*: conversations answered by the FAQ with no ticket, no "it did not
  help", and no question about the same entry again within 24 hours of its answer (the
  customer came back: the answer did not settle it);
- *acceptance* per FAQ entry: "helped" among the answers the customer rated;
- first-response and resolution times of the period's tickets, p50 and p90, in wall-clock
  time and in business time (the SLA calendar of the ticket's team);
- CSAT average and distribution; escalation reasons.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from escalation.models import OutcomeKind, Ticket, TurnOutcome
from escalation.sla import Policy

#: An answer followed by a question about the same entry this soon was not the end of it.
CAME_BACK_WITHIN = timedelta(hours=24)


@dataclass(frozen=True)
class Scope:
    """The period and, optionally, one language or channel."""

    since: datetime
    until: datetime
    language: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class Durations:
    """p50 and p90 in seconds (None without any)."""

    count: int
    p50_seconds: float | None
    p90_seconds: float | None


@dataclass(frozen=True)
class Summary:
    conversations: int
    contained: int
    verified_deflections: int
    answered: int
    clarified: int
    declined: int
    rated_helped: int
    rated_not_helped: int
    escalations: int
    escalation_reasons: dict[str, int]
    first_response: Durations
    first_response_business: Durations
    resolution: Durations
    resolution_business: Durations
    csat_count: int
    csat_average: float | None
    csat_distribution: dict[int, int] = field(default_factory=dict)

    @property
    def containment_rate(self) -> float | None:
        return self.contained / self.conversations if self.conversations else None

    @property
    def verified_deflection_rate(self) -> float | None:
        return self.verified_deflections / self.conversations if self.conversations else None


@dataclass(frozen=True)
class EntryStats:
    entry_id: str
    answered: int
    helped: int
    not_helped: int

    @property
    def acceptance_rate(self) -> float | None:
        rated = self.helped + self.not_helped
        return self.helped / rated if rated else None


def summary(session: Session, scope: Scope, policy: Policy) -> Summary:
    kinds = _outcome_counts(session, scope)
    tickets = list(session.scalars(_tickets_in(scope)))
    escalated = {ticket.conversation_id for ticket in tickets}
    conversations = set(session.scalars(outcomes_in(scope, TurnOutcome.conversation_id)))
    conversations |= escalated
    ratings = [ticket.csat for ticket in tickets if ticket.csat is not None]
    return Summary(
        conversations=len(conversations),
        contained=len(conversations - escalated),
        verified_deflections=_verified_deflections(session, scope, escalated),
        answered=kinds[OutcomeKind.ANSWERED],
        clarified=kinds[OutcomeKind.CLARIFIED],
        declined=kinds[OutcomeKind.DECLINED],
        rated_helped=kinds["helped"],
        rated_not_helped=kinds["not_helped"],
        escalations=len(tickets),
        escalation_reasons=dict(Counter(ticket.reason for ticket in tickets).most_common()),
        first_response=_durations(
            (t.first_agent_response_at - t.escalated_at)
            for t in tickets
            if t.first_agent_response_at
        ),
        first_response_business=_durations(
            _business(policy, t, t.first_agent_response_at)
            for t in tickets
            if t.first_agent_response_at
        ),
        resolution=_durations((t.resolved_at - t.escalated_at) for t in tickets if t.resolved_at),
        resolution_business=_durations(
            _business(policy, t, t.resolved_at) for t in tickets if t.resolved_at
        ),
        csat_count=len(ratings),
        csat_average=round(statistics.fmean(ratings), 2) if ratings else None,
        csat_distribution={score: ratings.count(score) for score in range(1, 6)},
    )


def series(
    session: Session, scope: Scope, policy: Policy, *, bucket: str
) -> list[tuple[datetime, Summary]]:
    """The summary per day or week (weeks start on the period's first day)."""
    step = timedelta(days=7 if bucket == "week" else 1)
    starts = _steps(scope.since, scope.until, step)
    return [
        (start, summary(session, _within(scope, start, min(start + step, scope.until)), policy))
        for start in starts
    ]


def breakdown(
    session: Session, scope: Scope, policy: Policy, *, by: str
) -> list[tuple[str, Summary]]:
    """The summary per language or per channel seen in the period, busiest first."""
    column = TurnOutcome.language if by == "language" else TurnOutcome.channel
    ticket_column = Ticket.language if by == "language" else Ticket.channel
    values = set(session.scalars(outcomes_in(scope, column).distinct()))
    values |= set(session.scalars(_tickets_in(scope, ticket_column).distinct()))
    rows = [
        (value, summary(session, _narrowed(scope, by, value), policy)) for value in sorted(values)
    ]
    return sorted(rows, key=lambda row: -row[1].conversations)


def entries(session: Session, scope: Scope) -> list[EntryStats]:
    """Per FAQ entry answered in the period: answers and how customers rated them."""
    query = (
        outcomes_in(
            scope,
            TurnOutcome.entry_id,
            func.count(),
            func.count().filter(TurnOutcome.helped.is_(True)),
            func.count().filter(TurnOutcome.helped.is_(False)),
        )
        .where(TurnOutcome.kind == OutcomeKind.ANSWERED)
        .group_by(TurnOutcome.entry_id)
        .order_by(func.count().desc(), TurnOutcome.entry_id)
    )
    return [
        EntryStats(entry_id, answered, helped, not_helped)
        for entry_id, answered, helped, not_helped in session.execute(query)
        if entry_id is not None
    ]


def outcomes_in(scope: Scope, *columns: Any) -> Select[Any]:
    """``columns`` of the scope's outcomes (through the index on ``occurred_at``)."""
    query = select(*columns).where(
        TurnOutcome.occurred_at >= scope.since, TurnOutcome.occurred_at < scope.until
    )
    if scope.language:
        query = query.where(TurnOutcome.language == scope.language)
    if scope.channel:
        query = query.where(TurnOutcome.channel == scope.channel)
    return query


def _tickets_in(scope: Scope, column: Any = Ticket) -> Select[Any]:
    """The scope's tickets (through the index on ``escalated_at``), or one column of them."""
    query = select(column).where(
        Ticket.escalated_at >= scope.since, Ticket.escalated_at < scope.until
    )
    if scope.language:
        query = query.where(Ticket.language == scope.language)
    if scope.channel:
        query = query.where(Ticket.channel == scope.channel)
    return query


def _outcome_counts(session: Session, scope: Scope) -> Counter[str]:
    counts: Counter[str] = Counter()
    query = outcomes_in(scope, TurnOutcome.kind, TurnOutcome.helped, func.count()).group_by(
        TurnOutcome.kind, TurnOutcome.helped
    )
    for kind, helped, count in session.execute(query):
        counts[str(kind)] += count
        if helped is not None:
            counts["helped" if helped else "not_helped"] += count
    return counts


class Turn(NamedTuple):
    kind: OutcomeKind
    entry_id: str | None
    helped: bool | None
    at: datetime


def _verified_deflections(session: Session, scope: Scope, escalated: set[str]) -> int:
    """Conversations whose answers held (the module's docstring); the 24 hours after the
    period are read too, for questions that came back."""
    later = Scope(scope.since, scope.until + CAME_BACK_WITHIN, scope.language, scope.channel)
    rows = session.execute(
        outcomes_in(
            later,
            TurnOutcome.conversation_id,
            TurnOutcome.kind,
            TurnOutcome.entry_id,
            TurnOutcome.helped,
            TurnOutcome.occurred_at,
        ).order_by(TurnOutcome.conversation_id, TurnOutcome.occurred_at, TurnOutcome.id)
    )
    by_conversation: dict[str, list[Turn]] = defaultdict(list)
    for conversation_id, *turn in rows:
        by_conversation[conversation_id].append(Turn(*turn))
    return sum(
        1
        for conversation_id, turns in by_conversation.items()
        if conversation_id not in escalated and _held(turns, scope.until)
    )


def _held(turns: list[Turn], until: datetime) -> bool:
    """Answered in the period, never "it did not help", never asked about again soon."""
    in_period = [turn for turn in turns if turn.at < until]
    if all(turn.kind != OutcomeKind.ANSWERED for turn in in_period):
        return False
    if any(turn.helped is False for turn in in_period):
        return False
    return not any(
        later.entry_id == turn.entry_id and later.at - turn.at <= CAME_BACK_WITHIN
        for index, turn in enumerate(in_period)
        if turn.kind == OutcomeKind.ANSWERED
        for later in turns[index + 1 :]
    )


def _business(policy: Policy, ticket: Ticket, until: datetime | None) -> timedelta:
    assert until is not None
    return policy.calendar_for(ticket.team).open_time_between(ticket.escalated_at, until)


def _durations(values: Iterable[timedelta]) -> Durations:
    seconds = sorted(value.total_seconds() for value in values)
    if not seconds:
        return Durations(0, None, None)
    return Durations(len(seconds), _percentile(seconds, 0.5), _percentile(seconds, 0.9))


def _percentile(ordered: list[float], share: float) -> float:
    """Nearest-rank percentile: a value that occurred, as support reports give it."""
    rank = max(1, -(-len(ordered) * share // 1))  # ceil(n * share)
    return ordered[int(rank) - 1]


def _steps(since: datetime, until: datetime, step: timedelta) -> Iterator[datetime]:
    moment = since
    while moment < until:
        yield moment
        moment += step


def _within(scope: Scope, since: datetime, until: datetime) -> Scope:
    return Scope(since, until, scope.language, scope.channel)


def _narrowed(scope: Scope, by: str, value: str) -> Scope:
    if by == "language":
        return Scope(scope.since, scope.until, value, scope.channel)
    return Scope(scope.since, scope.until, scope.language, value)
