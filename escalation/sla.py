"""Service levels: when a ticket's first response and its resolution are due, in business time.

The policy lives in a YAML file (``HELPDESK_SLA_PATH``, default escalation/sla.yml): a calendar
(timezone, opening hours per weekday, public holidays of a country from the ``holidays``
package plus closed dates of one's own) and targets per priority, optionally per category.
A target counts only the calendar's open time: a ticket escalated on Saturday night with a
4-hour target is due four open hours after Monday's opening. Arithmetic is done in UTC on
the open intervals of each local day, so a day with a DST change is as long as the clock
says. Errors name the file and the line.

Written here rather than taken from ``businesstimedelta``: unmaintained since 2019 and built
on pytz; the calendar's holidays do come from the maintained ``holidays`` package.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal
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


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    calendar: CalendarIn
    warn_at: float = Field(0.8, gt=0, lt=1)
    targets: list[TargetIn]
    routing: RoutingIn = RoutingIn()


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

    def is_closed_day(self, day: date) -> bool:
        return day in self.closed_dates or (
            self.country_holidays is not None and day in self.country_holidays
        )

    def open_intervals(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        """The day's open intervals, in UTC."""
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

    def next_open(self, moment: datetime) -> datetime:
        """``moment`` if the calendar is open then, else when it next opens."""
        for start, _ in self._intervals_from(moment):
            return start
        raise SlaConfigError(f"the SLA calendar is not open in {SEARCH_DAYS} days")

    def open_time_between(self, begin: datetime, end: datetime) -> timedelta:
        total = timedelta(0)
        for start, stop in self._intervals_from(begin):
            if start >= end:
                break
            total += min(stop, end) - start
        return total


@dataclass(frozen=True)
class Policy:
    calendar: Calendar
    warn_at: float
    targets: tuple[TargetIn, ...]
    routing: RoutingIn

    def targets_for(self, priority: Priority, category: str | None) -> Targets:
        matches = [t for t in self.targets if t.priority == priority]
        chosen = next((t for t in matches if category and t.category == category), None)
        chosen = chosen or next((t for t in matches if t.category is None), None)
        if chosen is None:
            raise SlaConfigError(f"the SLA policy has no target for priority {priority.value}")
        return Targets(parse_duration(chosen.first_response), parse_duration(chosen.resolution))

    def due(
        self, escalated_at: datetime, priority: Priority, category: str | None
    ) -> tuple[datetime, datetime]:
        """(first response due, resolution due) of a ticket escalated then."""
        targets = self.targets_for(priority, category)
        return (
            self.calendar.add(escalated_at, targets.first_response),
            self.calendar.add(escalated_at, targets.resolution),
        )

    def state(self, started: datetime, due: datetime, now: datetime) -> str:
        """'breached' past the due time, 'warning' past ``warn_at`` of the open time to it."""
        if now >= due:
            return "breached"
        whole = self.calendar.open_time_between(started, due)
        used = self.calendar.open_time_between(started, now)
        return "warning" if whole and used / whole >= self.warn_at else "ok"


@dataclass(frozen=True)
class Clock:
    """Where a ticket stands against its next target."""

    target: str  # "first_response" until an agent answered, then "resolution"
    due_at: datetime
    state: str  # "ok", "warning" (past warn_at of the open time), "breached"


def clock_of(
    policy: Policy,
    *,
    escalated_at: datetime,
    first_response_due_at: datetime | None,
    resolution_due_at: datetime | None,
    answered: bool,
    now: datetime,
) -> Clock | None:
    """The ticket's running clock; None without due times (tickets from before SLAs)."""
    target, due = (
        ("resolution", resolution_due_at) if answered else ("first_response", first_response_due_at)
    )
    if due is None:
        return None
    return Clock(target, due, policy.state(escalated_at, due, now))


def load_policy(path: Path) -> Policy:
    """The policy in ``path``.

    Raises:
        SlaConfigError: naming the file, the line and what is wrong.
    """
    parsed = load_model(path, PolicyIn, SlaConfigError, "SLA policy")
    return Policy(_calendar(parsed.calendar), parsed.warn_at, tuple(parsed.targets), parsed.routing)


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
