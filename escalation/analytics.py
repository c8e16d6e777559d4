"""What the bot resolved and where it failed, from recorded outcomes and tickets.

Every figure is over a period (``since`` ≤ moment < ``until``), optionally one language or
channel, and reads only that period's rows through indexes (no scan of the whole history):

- *conversations*: those started in the period (their first FAQ decision or ticket), with
  what happened in them added up as it was recorded (escalation/outcomes.py);
- *contained*: of those, the ones without a ticket (nobody needed a person);
- *verified deflections*: conversations answered by the FAQ with no ticket, no "it did not
  help", and no question about the same entry again within 24 hours of an answer (the
  customer came back: the answer did not settle it);
- the FAQ's decisions (answered, clarified, declined) and "did this help?" in them;
- *acceptance* per FAQ entry: "helped" among its answers the customer rated in the period;
- first-response and resolution times of the tickets escalated in the period, p50 and p90,
  in wall-clock time and in business time (the SLA calendar of the ticket's team);
- CSAT average and distribution; escalation reasons (tickets escalated in the period).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo
from itertools import pairwise
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from escalation.models import ConversationOutcome, OutcomeKind, Ticket, TurnOutcome
from escalation.outcomes import COUNTED


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


def summary(session: Session, scope: Scope) -> Summary:
    totals = _conversation_totals(session, scope)
    tickets = session.execute(
        _tickets_in(
            scope,
            Ticket.reason,
            Ticket.csat,
            Ticket.first_response_seconds,
            Ticket.first_response_business_seconds,
            Ticket.resolution_seconds,
            Ticket.resolution_business_seconds,
        )
    ).all()
    ratings = [ticket.csat for ticket in tickets if ticket.csat is not None]
    return Summary(
        conversations=totals["conversations"],
        contained=totals["contained"],
        verified_deflections=totals["verified"],
        answered=totals["answered"],
        clarified=totals["clarified"],
        declined=totals["declined"],
        rated_helped=totals["helped"],
        rated_not_helped=totals["not_helped"],
        escalations=len(tickets),
        escalation_reasons=dict(Counter(ticket.reason for ticket in tickets).most_common()),
        first_response=_durations(t.first_response_seconds for t in tickets),
        first_response_business=_durations(t.first_response_business_seconds for t in tickets),
        resolution=_durations(t.resolution_seconds for t in tickets),
        resolution_business=_durations(t.resolution_business_seconds for t in tickets),
        csat_count=len(ratings),
        csat_average=round(statistics.fmean(ratings), 2) if ratings else None,
        csat_distribution={score: ratings.count(score) for score in range(1, 6)},
    )


def series(
    session: Session, scope: Scope, *, bucket: str, zone: tzinfo = UTC
) -> list[tuple[datetime, Summary]]:
    """The summary per calendar day or week in ``zone`` (weeks start on the period's first
    day): a bucket ends at a local midnight, so a day is the viewer's day, 23 or 25 hours
    long when the clocks change."""
    bounds = [*_starts(scope.since, scope.until, 7 if bucket == "week" else 1, zone), scope.until]
    return [
        (start, summary(session, _within(scope, start, end))) for start, end in pairwise(bounds)
    ]


def breakdown(session: Session, scope: Scope, *, by: str) -> list[tuple[str, Summary]]:
    """The summary per language or per channel seen in the period, busiest first."""
    column = ConversationOutcome.language if by == "language" else ConversationOutcome.channel
    values = set(session.scalars(_conversations_in(scope, column).distinct()))
    rows = [(value, summary(session, _narrowed(scope, by, value))) for value in sorted(values)]
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
    table = TurnOutcome
    return _scoped(scope, table.occurred_at, table.language, table.channel, columns)


def _tickets_in(scope: Scope, *columns: Any) -> Select[Any]:
    """``columns`` of the scope's tickets (through the index on ``escalated_at``)."""
    return _scoped(scope, Ticket.escalated_at, Ticket.language, Ticket.channel, columns)


def _conversations_in(scope: Scope, *columns: Any) -> Select[Any]:
    """``columns`` of the conversations started in the scope (one covering index)."""
    table = ConversationOutcome
    return _scoped(scope, table.started_at, table.language, table.channel, columns)


def _scoped(
    scope: Scope, moment: Any, language: Any, channel: Any, columns: tuple[Any, ...]
) -> Select[Any]:
    query = select(*columns).where(moment >= scope.since, moment < scope.until)
    if scope.language:
        query = query.where(language == scope.language)
    if scope.channel:
        query = query.where(channel == scope.channel)
    return query


def _conversation_totals(session: Session, scope: Scope) -> dict[str, int]:
    """The conversations started in the period, added up in one pass: how many, how many
    without a ticket, how many verified deflections, and the FAQ's decisions in them."""
    row = ConversationOutcome
    held = and_(row.escalated.is_(False), row.answered > 0, row.not_helped == 0, row.came_back == 0)
    query = _conversations_in(
        scope,
        func.count(),
        func.count().filter(row.escalated.is_(False)),
        func.count().filter(held),
        *(func.coalesce(func.sum(getattr(row, name)), 0) for name in COUNTED[:5]),
    )
    names = ("conversations", "contained", "verified", *COUNTED[:5])
    return dict(zip(names, (int(value) for value in session.execute(query).one()), strict=True))


def _durations(values: Iterable[float | None]) -> Durations:
    seconds = sorted(value for value in values if value is not None)
    if not seconds:
        return Durations(0, None, None)
    return Durations(len(seconds), _percentile(seconds, 0.5), _percentile(seconds, 0.9))


def _percentile(ordered: list[float], share: float) -> float:
    """Nearest-rank percentile: a value that occurred, as support reports give it."""
    rank = max(1, -(-len(ordered) * share // 1))  # ceil(n * share)
    return ordered[int(rank) - 1]


def _starts(since: datetime, until: datetime, days: int, zone: tzinfo) -> Iterator[datetime]:
    """``since``, then the local midnights every ``days`` days after its day, before ``until``
    (nothing for an empty period)."""
    day = since.astimezone(zone).date()
    moment = since
    while moment < until:
        yield moment
        day += timedelta(days=days)
        moment = datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def _within(scope: Scope, since: datetime, until: datetime) -> Scope:
    return Scope(since, until, scope.language, scope.channel)


def _narrowed(scope: Scope, by: str, value: str) -> Scope:
    if by == "language":
        return Scope(scope.since, scope.until, value, scope.channel)
    return Scope(scope.since, scope.until, scope.language, value)
