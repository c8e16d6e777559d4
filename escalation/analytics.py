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
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select, union
from sqlalchemy.orm import Session

from escalation.models import OutcomeKind, Ticket, TurnOutcome
from escalation.sla import Policy


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
    tickets = session.execute(
        _tickets_in(
            scope,
            Ticket.reason,
            Ticket.team,
            Ticket.escalated_at,
            Ticket.first_agent_response_at,
            Ticket.resolved_at,
            Ticket.csat,
        )
    ).all()
    escalated = _tickets_in(scope, Ticket.conversation_id)
    conversations = _count(
        session, union(outcomes_in(scope, TurnOutcome.conversation_id), escalated)
    )
    ratings = [ticket.csat for ticket in tickets if ticket.csat is not None]
    answered = [t for t in tickets if t.first_agent_response_at]
    resolved = [t for t in tickets if t.resolved_at]
    return Summary(
        conversations=conversations,
        contained=conversations - _count(session, escalated.distinct()),
        verified_deflections=_verified_deflections(session, scope),
        answered=kinds[OutcomeKind.ANSWERED],
        clarified=kinds[OutcomeKind.CLARIFIED],
        declined=kinds[OutcomeKind.DECLINED],
        rated_helped=kinds["helped"],
        rated_not_helped=kinds["not_helped"],
        escalations=len(tickets),
        escalation_reasons=dict(Counter(ticket.reason for ticket in tickets).most_common()),
        first_response=_durations(t.first_agent_response_at - t.escalated_at for t in answered),
        first_response_business=_durations(
            _business(policy, t.team, t.escalated_at, t.first_agent_response_at) for t in answered
        ),
        resolution=_durations(t.resolved_at - t.escalated_at for t in resolved),
        resolution_business=_durations(
            _business(policy, t.team, t.escalated_at, t.resolved_at) for t in resolved
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


def _tickets_in(scope: Scope, *columns: Any) -> Select[Any]:
    """``columns`` of the scope's tickets (through the index on ``escalated_at``)."""
    query = select(*columns).where(
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


def _verified_deflections(session: Session, scope: Scope) -> int:
    """Conversations of the period with an answer, none of whose outcomes the customer said
    did not help or came back about (``came_back``, set as it happens), and no ticket."""
    held = (
        outcomes_in(scope, TurnOutcome.conversation_id)
        .group_by(TurnOutcome.conversation_id)
        .having(
            func.count().filter(TurnOutcome.kind == OutcomeKind.ANSWERED) > 0,
            func.count().filter(or_(TurnOutcome.helped.is_(False), TurnOutcome.came_back.is_(True)))
            == 0,
        )
    )
    escalated = _tickets_in(scope, Ticket.conversation_id)
    return _count(session, held.where(TurnOutcome.conversation_id.not_in(escalated)))


def _count(session: Session, query: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def _business(policy: Policy, team: str | None, since: datetime, until: datetime) -> timedelta:
    return policy.calendar_for(team).open_time_between(since, until)


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
