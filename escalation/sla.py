"""Service levels: when a ticket's first response and its resolution are due, in business time.

The policy lives in a YAML file (``HELPDESK_SLA_PATH``, default escalation/sla.yml): a calendar
(timezone, opening hours per weekday, public holidays of a country from the ``holidays``
package plus closed dates of one's own) and targets per priority, optionally per category.
A team can keep hours of its own (the ``teams`` section); a ticket counts in the hours of
the team its category is routed to. A target counts only open time: a ticket escalated on
Saturday night with a 4-hour target is due four open hours after Monday's opening.
Arithmetic is done in UTC on the open intervals of each local day, so a day with a DST
change is as long as the clock says. Errors name the file and the line.

Written here rather than taken from ``businesstimedelta``: unmaintained since 2019 and built
on pytz; the calendar's holidays do come from the maintained ``holidays`` package.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import BaseModel, ConfigDict, Field, field_validator

from escalation.config_file import load_model
from escalation.errors import SlaConfigError
from escalation.models import Priority

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
INTERVAL = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
DURATION = re.compile(r"^(\d+)\s*(m|min|h)$")
#: How far ahead an open hour is looked for before the calendar counts as always closed.
SEARCH_DAYS = 400


def parse_duration(text: str) -> timedelta:
    """'30m', '4h' as a timedelta of business time."""
    match = DURATION.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a duration such as '30m' or '4h'")
    amount, unit = int(match.group(1)), match.group(2)
    return timedelta(hours=amount) if unit == "h" else timedelta(minutes=amount)


class HolidaysIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    country: str | None = Field(None, description="ISO code, e.g. NL, DE, US")
    subdivision: str | None = None
    dates: list[date] = []


class CalendarIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timezone: str
    hours: dict[str, list[str]]
    holidays: HolidaysIn = HolidaysIn()

    @field_validator("timezone")
    @classmethod
    def known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r} (e.g. Europe/Amsterdam)") from None
        return value

    @field_validator("hours")
    @classmethod
    def weekdays_and_intervals(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for day, intervals in value.items():
            if day not in WEEKDAYS:
                raise ValueError(f"{day!r} is not a weekday (monday … sunday)")
            for interval in intervals:
                _interval(interval)
        if not any(value.values()):
            raise ValueError("the calendar is never open: give some hours")
        return value


class TargetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    priority: Priority
    category: str | None = None
    first_response: str
    resolution: str

    @field_validator("first_response", "resolution")
    @classmethod
    def is_duration(cls, value: str) -> str:
        parse_duration(value)
        return value


class RoutingIn(BaseModel):
    """Who gets a new ticket (escalation/routing.py)."""

    model_config = ConfigDict(extra="forbid")

    strategy: Literal["least_loaded", "round_robin"] = "least_loaded"
    teams: dict[str, str] = Field({}, description="ticket category -> the team that handles it")


class TeamIn(BaseModel):
    """A team that keeps hours of its own (another timezone, a weekend shift)."""

    model_config = ConfigDict(extra="forbid")

    calendar: CalendarIn


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    calendar: CalendarIn
    warn_at: float = Field(0.8, gt=0, lt=1)
    targets: list[TargetIn]
    routing: RoutingIn = RoutingIn()
    teams: dict[str, TeamIn] = Field({}, description="team -> its own calendar")


@dataclass(frozen=True)
class Targets:
    first_response: timedelta
    resolution: timedelta


@dataclass(frozen=True)
class Calendar:
    """Open hours in a timezone, closed on holidays."""

    zone: ZoneInfo
    hours: dict[int, tuple[tuple[time, time | None], ...]]  # weekday -> (open, close or midnight)
    closed_dates: frozenset[date]
    country_holidays: holidays.HolidayBase | None
    _days: dict[date, tuple[tuple[datetime, datetime], ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def is_closed_day(self, day: date) -> bool:
        return day in self.closed_dates or (
            self.country_holidays is not None and day in self.country_holidays
        )

    def open_intervals(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The day's open intervals, in UTC (worked out once per day: analytics asks for the
        same days for thousands of tickets)."""
        known = self._days.get(day)
        if known is None:
            known = self._days[day] = tuple(self._work_out(day))
        return known

    def _work_out(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        if self.is_closed_day(day):
            return
        for opens, closes in self.hours.get(day.weekday(), ()):
            start = datetime.combine(day, opens, tzinfo=self.zone).astimezone(UTC)
            end_day, end_time = (day, closes) if closes else (day + timedelta(days=1), time(0))
            end = datetime.combine(end_day, end_time, tzinfo=self.zone).astimezone(UTC)
            yield start, end

    def _intervals_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        day = moment.astimezone(self.zone).date()
        for offset in range(SEARCH_DAYS):
            for start, end in self.open_intervals(day + timedelta(days=offset)):
                if end > moment:
                    yield max(start, moment), end

    def add(self, moment: datetime, duration: timedelta) -> datetime:
        """The moment ``duration`` of open time after ``moment``."""
        remaining = duration
        for start, end in self._intervals_from(moment):
            if remaining <= end - start:
                return start + remaining
            remaining -= end - start
        raise SlaConfigError(f"the SLA calendar is not open in {SEARCH_DAYS} days")

    def open_time_between(self, begin: datetime, end: datetime) -> timedelta:
        total = timedelta(0)
        for start, stop in self._intervals_from(begin):
            if start >= end:
                break
            total += min(stop, end) - start
        return total

    def next_open(self, moment: datetime) -> datetime:
        """``moment`` if the calendar is open then, else when it next opens."""
        for start, _ in self._intervals_from(moment):
            return start
        raise SlaConfigError(f"the SLA calendar is not open in {SEARCH_DAYS} days")


@dataclass(frozen=True)
class Policy:
    calendar: Calendar
    warn_at: float
    targets: tuple[TargetIn, ...]
    routing: RoutingIn
    team_calendars: dict[str, Calendar] = field(default_factory=dict)

    def team_for(self, category: str | None) -> str | None:
        """The team that handles a ticket of ``category`` (the routing section), if any."""
        return self.routing.teams.get(category or "")

    def calendar_for(self, team: str | None) -> Calendar:
        """The team's own hours, else the policy's calendar."""
        return self.team_calendars.get(team or "", self.calendar)

    def targets_for(self, priority: Priority, category: str | None) -> Targets:
        matches = [t for t in self.targets if t.priority == priority]
        chosen = next((t for t in matches if category and t.category == category), None)
        chosen = chosen or next((t for t in matches if t.category is None), None)
        if chosen is None:
            raise SlaConfigError(f"the SLA policy has no target for priority {priority.value}")
        return Targets(parse_duration(chosen.first_response), parse_duration(chosen.resolution))

    def deadlines(
        self, escalated_at: datetime, priority: Priority, category: str | None
    ) -> Deadlines:
        """When a ticket escalated then is due and due soon, in the hours of the team its
        category goes to. The 'due soon' moments are stored with the ticket, so finding the
        tickets about to breach is a query, not calendar arithmetic per ticket."""
        targets = self.targets_for(priority, category)
        calendar = self.calendar_for(self.team_for(category))
        return Deadlines(
            first_response_due_at=calendar.add(escalated_at, targets.first_response),
            resolution_due_at=calendar.add(escalated_at, targets.resolution),
            first_response_warn_at=calendar.add(
                escalated_at, targets.first_response * self.warn_at
            ),
            resolution_warn_at=calendar.add(escalated_at, targets.resolution * self.warn_at),
        )

    def after_pause(
        self, deadline: datetime, *, team: str | None, paused_at: datetime, now: datetime
    ) -> datetime:
        """A deadline still ahead when the clock paused (the ticket waited on the customer),
        moved on by the open time the pause took: what was left of it is left again."""
        if deadline <= paused_at:
            return deadline
        calendar = self.calendar_for(team)
        return calendar.add(now, calendar.open_time_between(paused_at, deadline))


@dataclass(frozen=True)
class Deadlines:
    """A ticket's due times, and from when each counts as due soon (``warn_at`` of it)."""

    first_response_due_at: datetime
    resolution_due_at: datetime
    first_response_warn_at: datetime
    resolution_warn_at: datetime


@dataclass(frozen=True)
class Clock:
    """Where a ticket stands against its next target."""

    target: str  # "first_response" until an agent answered, then "resolution"
    due_at: datetime
    state: str  # "ok", "warning" (past warn_at of the open time), "breached", "paused"


class HasDeadlines(Protocol):
    """A ticket, or the API's summary of one."""

    paused_at: datetime | None
    first_agent_response_at: datetime | None
    first_response_due_at: datetime | None
    first_response_warn_at: datetime | None
    resolution_due_at: datetime | None
    resolution_warn_at: datetime | None


def clock_of(ticket: HasDeadlines, *, now: datetime) -> Clock | None:
    """The ticket's running clock: first response until an agent answered, then resolution;
    None without due times (tickets from before SLAs)."""
    if ticket.first_agent_response_at is None:
        target, due, warn = (
            "first_response",
            ticket.first_response_due_at,
            ticket.first_response_warn_at,
        )
    else:
        target, due, warn = "resolution", ticket.resolution_due_at, ticket.resolution_warn_at
    if due is None:
        return None
    if ticket.paused_at is not None:
        state = "paused"  # waiting on the customer: the due time moves on when they answer
    elif now >= due:
        state = "breached"
    elif warn is not None and now >= warn:
        state = "warning"
    else:
        state = "ok"
    return Clock(target, due, state)


def load_policy(path: Path) -> Policy:
    """The policy in ``path``.

    Raises:
        SlaConfigError: naming the file, the line and what is wrong.
    """
    parsed = load_model(path, PolicyIn, SlaConfigError, "SLA policy")
    return Policy(
        _calendar(parsed.calendar),
        parsed.warn_at,
        tuple(parsed.targets),
        parsed.routing,
        {team: _calendar(spec.calendar) for team, spec in parsed.teams.items()},
    )


@lru_cache(maxsize=4)
def cached_policy(path: Path) -> Policy:
    """The policy, read once per process (start-up validates it)."""
    return load_policy(path)


def _calendar(calendar: CalendarIn) -> Calendar:
    hours = {
        WEEKDAYS.index(day): tuple(_interval(text) for text in intervals)
        for day, intervals in calendar.hours.items()
    }
    country = None
    if calendar.holidays.country:
        try:
            country = holidays.country_holidays(
                calendar.holidays.country, subdiv=calendar.holidays.subdivision
            )
        except NotImplementedError:
            raise SlaConfigError(
                f"no public holidays known for country {calendar.holidays.country!r}"
            ) from None
    return Calendar(ZoneInfo(calendar.timezone), hours, frozenset(calendar.holidays.dates), country)


def _interval(text: str) -> tuple[time, time | None]:
    """'09:00-17:30' as (09:00, 17:30); '…-24:00' closes at midnight (None)."""
    match = INTERVAL.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not an interval such as '09:00-17:00'")
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
        raise ValueError(f"{text!r} has an impossible time")
    opens, closes = time(h1, m1), (None if h2 == 24 else time(h2, m2))
    if closes is not None and closes <= opens:
        raise ValueError(f"{text!r} closes before it opens")
    return opens, closes
