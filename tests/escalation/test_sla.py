"""Service levels in business time: weekends, holidays, DST, the console's clock, file errors."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from escalation.errors import SlaConfigError
from escalation.models import Priority
from escalation.sla import Deadlines, Policy, clock_of, load_policy
from tests.conftest import PROJECT_ROOT, sla_file

SHIPPED_TEXT = (PROJECT_ROOT / "escalation" / "sla.yml").read_text(encoding="utf-8")
SHIPPED = load_policy(PROJECT_ROOT / "escalation" / "sla.yml")  # Amsterdam, Mon-Fri 9-17:30, NL


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_saturday_night_escalation_is_due_after_monday_opening() -> None:
    saturday_23h = utc(2026, 12, 5, 22, 0)  # 23:00 in Amsterdam (CET, UTC+1)
    first, resolution = due(SHIPPED.deadlines(saturday_23h, Priority.NORMAL, None))
    assert SHIPPED.calendar.next_open(saturday_23h) == utc(2026, 12, 7, 8, 0)  # Mon 09:00
    assert first == utc(2026, 12, 7, 12, 0)  # 4 open hours after Monday 09:00
    assert resolution == utc(2026, 12, 8, 15, 30)  # 8.5 h Monday + 7.5 h Tuesday


def test_public_holidays_are_closed() -> None:
    thursday_1720 = utc(2026, 12, 24, 16, 20)  # 10 min before closing; Friday 25th: Christmas
    first, _ = due(SHIPPED.deadlines(thursday_1720, Priority.HIGH, None))  # 1 h
    assert first == utc(2026, 12, 28, 8, 50)  # 10 min Thursday, 50 min from Monday 09:00


def test_business_hours_across_the_spring_dst_change() -> None:
    friday_1630 = utc(2026, 3, 27, 15, 30)  # 16:30 CET; clocks go forward on Sunday 29th
    first, _ = due(SHIPPED.deadlines(friday_1630, Priority.HIGH, None))  # 1 h: 16:30-17:30 Friday
    assert first == utc(2026, 3, 27, 16, 30)
    two_hours = SHIPPED.calendar.add(friday_1630, timedelta(hours=2))
    assert two_hours == utc(2026, 3, 30, 8, 0)  # Monday 10:00 CEST is 08:00 UTC


def test_a_day_open_around_the_clock_is_23_hours_on_the_dst_day(tmp_path: Path) -> None:
    always = load_policy(sla_file(tmp_path / "sla.yml"))
    saturday_midnight = utc(2026, 3, 28, 23, 0)  # Sunday 00:00 CET, the short day
    assert always.calendar.add(saturday_midnight, timedelta(hours=23)) == utc(2026, 3, 29, 22, 0)
    assert always.calendar.add(saturday_midnight, timedelta(hours=4)) == utc(2026, 3, 29, 3, 0)


def test_the_clock_warns_past_the_share_and_breaches_past_the_due_time() -> None:
    monday_9h = utc(2026, 12, 7, 8, 0)
    deadlines = SHIPPED.deadlines(monday_9h, Priority.NORMAL, None)  # first response 13:00
    assert deadlines.first_response_warn_at == utc(2026, 12, 7, 11, 12)  # 80 % of 4 h

    def state(now: datetime, answered: bool = False) -> str | None:
        ticket = SimpleNamespace(
            paused_at=None,
            first_agent_response_at=monday_9h if answered else None,
            **asdict(deadlines),
        )
        clock = clock_of(ticket, now=now)
        return f"{clock.target}:{clock.state}" if clock else None

    assert state(utc(2026, 12, 7, 10, 0)) == "first_response:ok"  # 2 of 4 h
    assert state(utc(2026, 12, 7, 11, 20)) == "first_response:warning"  # 3 h 20 of 4 h
    assert state(utc(2026, 12, 7, 12, 0)) == "first_response:breached"
    assert state(utc(2026, 12, 7, 12, 0), answered=True) == "resolution:ok"
    paused = SimpleNamespace(paused_at=monday_9h, first_agent_response_at=None, **asdict(deadlines))
    assert clock_of(paused, now=utc(2026, 12, 7, 13, 0)).state == "paused"  # type: ignore[union-attr]
    before_slas = SimpleNamespace(
        paused_at=None,
        first_agent_response_at=None,
        first_response_due_at=None,
        first_response_warn_at=None,
        resolution_due_at=None,
        resolution_warn_at=None,
    )
    assert clock_of(before_slas, now=monday_9h) is None


def test_a_team_with_hours_of_its_own_counts_in_them(tmp_path: Path) -> None:
    """Tickets of a category routed to a team in New York are due in New York's hours."""
    path = tmp_path / "sla.yml"
    path.write_text(
        SHIPPED_TEXT.replace("  teams: {}", "  teams: {billing: finance_us}")
        + "teams:\n  finance_us:\n    calendar:\n      timezone: America/New_York\n"
        "      hours: {monday: ['09:00-17:00'], tuesday: ['09:00-17:00']}\n"
    )
    policy = load_policy(path)
    monday_9h_amsterdam = utc(2026, 12, 7, 8, 0)  # 03:00 in New York
    billing = policy.deadlines(monday_9h_amsterdam, Priority.HIGH, "billing")  # 1 h
    assert billing.first_response_due_at == utc(2026, 12, 7, 15, 0)  # New York 10:00
    other = policy.deadlines(monday_9h_amsterdam, Priority.HIGH, "returns")
    assert other.first_response_due_at == utc(2026, 12, 7, 9, 0)  # Amsterdam 10:00
    assert policy.calendar_for(policy.team_for("billing")).next_open(monday_9h_amsterdam) == utc(
        2026, 12, 7, 14, 0
    )


def test_a_pause_gives_back_the_business_time_that_was_left() -> None:
    """Waiting on the customer from Friday 15:00 with an hour left; they answer Monday 10:00:
    the hour is left again, so it is due Monday 11:00 (Amsterdam)."""
    friday_15h, due_friday_16h = utc(2026, 12, 4, 14, 0), utc(2026, 12, 4, 15, 0)
    monday_10h = utc(2026, 12, 7, 9, 0)
    moved = SHIPPED.after_pause(due_friday_16h, team=None, paused_at=friday_15h, now=monday_10h)
    assert moved == utc(2026, 12, 7, 10, 0)
    breached_before = utc(2026, 12, 4, 13, 0)  # already past when the pause began: stays
    assert (
        SHIPPED.after_pause(breached_before, team=None, paused_at=friday_15h, now=monday_10h)
        == breached_before
    )


def due(deadlines: Deadlines) -> tuple[datetime, datetime]:
    return deadlines.first_response_due_at, deadlines.resolution_due_at


def test_a_category_target_wins_over_its_priority(tmp_path: Path) -> None:
    path = sla_file(tmp_path / "sla.yml")
    path.write_text(
        path.read_text() + "  - {priority: normal, category: billing, first_response: 1h,"
        " resolution: 2h}\n"
    )
    policy: Policy = load_policy(path)
    assert policy.targets_for(Priority.NORMAL, "billing").first_response == timedelta(hours=1)
    assert policy.targets_for(Priority.NORMAL, "returns").first_response == timedelta(hours=4)


@pytest.mark.parametrize(
    ("broken", "line", "words"),
    [
        ("  timezone: Europe/Amsterdam", "  timezone: Mars/Olympus", (2, "unknown timezone")),
        ("first_response: 30m", "first_response: soon", (12, "not a duration")),
        ("    monday:", "    mondag:", (4, "not a weekday")),
    ],
)
def test_a_malformed_policy_names_the_file_and_line(
    tmp_path: Path, broken: str, line: str, words: tuple[int, str]
) -> None:
    path = sla_file(tmp_path / "sla.yml")
    path.write_text(path.read_text().replace(broken, line, 1))
    number, message = words
    with pytest.raises(SlaConfigError, match=rf"sla\.yml:{number}: .*{message}"):
        load_policy(path)


def test_a_calendar_that_never_opens_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SlaConfigError, match="never open"):
        load_policy(sla_file(tmp_path / "sla.yml", hours=""))
