"""Analytics for the team: containment, verified deflection, answer acceptance per FAQ
entry, response and resolution times, CSAT, escalation reasons (escalation/analytics.py),
and the knowledge gaps (escalation/gaps.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from fastapi import APIRouter, Depends, HTTPException, Query, status

from escalation import analytics
from escalation.analytics import Scope
from escalation.api.deps import CurrentAgent, SessionDep, SlaDep
from escalation.api.responses import UNAUTHORIZED
from escalation.api.schemas import (
    BreakdownRow,
    EntryStatsOut,
    GapClusterOut,
    SeriesPoint,
    SummaryOut,
)
from escalation.gaps import gap_clusters
from escalation.models import utc_now

router = APIRouter(prefix="/api/analytics", tags=["analytics"], responses=UNAUTHORIZED)

#: The longest period one request reads (a year of days is 366 points).
MAX_PERIOD = timedelta(days=366)
DEFAULT_PERIOD = timedelta(days=7)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
#: The zones this machine's time zone database knows: the schema lists them, so a client (or
#: a fuzzer) sees what ``tz`` accepts.
TIME_ZONES = sorted(available_timezones())


def scope(
    since: Annotated[
        datetime | None,
        Query(description="Start (ISO 8601, UTC unless given); default 7 days ago."),
    ] = None,
    until: Annotated[datetime | None, Query(description="End, excluded; default now.")] = None,
    language: Annotated[str | None, Query(max_length=16)] = None,
    channel: Annotated[str | None, Query(max_length=50)] = None,
) -> Scope:
    """The period asked for, read as at most the 366 days before ``until`` (a longer one is
    cut there; an empty one gives zeros)."""
    end = _within_reason(_aware(until) if until else utc_now())
    start = _within_reason(_aware(since) if since else end - DEFAULT_PERIOD)
    return Scope(max(start, end - MAX_PERIOD), end, language, channel)


def _within_reason(moment: datetime) -> datetime:
    """Outside 1970-2200 nothing was recorded: clamped there (date arithmetic never runs
    off the calendar's ends)."""
    return min(max(moment, EARLIEST), LATEST)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


ScopeDep = Annotated[Scope, Depends(scope)]


@router.get("/summary")
def read_summary(session: SessionDep, _: CurrentAgent, sla: SlaDep, period: ScopeDep) -> SummaryOut:
    """The period's figures, for one language or channel when given."""
    return SummaryOut.model_validate(analytics.summary(session, period))


@router.get("/series")
def read_series(
    session: SessionDep,
    _: CurrentAgent,
    sla: SlaDep,
    period: ScopeDep,
    bucket: Literal["day", "week"] = "day",
    tz: Annotated[
        str,
        Query(
            max_length=64,
            description="IANA time zone whose calendar days the buckets follow "
            "(the console sends the viewer's); default UTC.",
            json_schema_extra={"enum": TIME_ZONES},
        ),
    ] = "UTC",
) -> list[SeriesPoint]:
    """The figures per calendar day or week of the period."""
    zone = _time_zone(tz)
    return [
        SeriesPoint(start=start, summary=SummaryOut.model_validate(figures))
        for start, figures in analytics.series(session, period, bucket=bucket, zone=zone)
    ]


def _time_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"unknown time zone: {name[:64]}"
        ) from error


@router.get("/breakdown")
def read_breakdown(
    session: SessionDep,
    _: CurrentAgent,
    sla: SlaDep,
    period: ScopeDep,
    by: Literal["language", "channel"] = "language",
) -> list[BreakdownRow]:
    """The figures per language or per channel, busiest first."""
    return [
        BreakdownRow(value=value, summary=SummaryOut.model_validate(figures))
        for value, figures in analytics.breakdown(session, period, by=by)
    ]


@router.get("/entries")
def read_entries(session: SessionDep, _: CurrentAgent, period: ScopeDep) -> list[EntryStatsOut]:
    """Per FAQ entry answered in the period: answers, helped, not helped, acceptance."""
    return [EntryStatsOut.model_validate(row) for row in analytics.entries(session, period)]


@router.get("/gaps")
def read_gaps(session: SessionDep, _: CurrentAgent, period: ScopeDep) -> list[GapClusterOut]:
    """Knowledge gaps: the questions the FAQ did not settle, grouped by meaning per language,
    largest first, with the entry they came closest to and what agents answered."""
    return [GapClusterOut.model_validate(cluster) for cluster in gap_clusters(session, period)]
