"""Every analytics figure on a fixture of known conversations equals the value worked out by
hand (in the comments), on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from core.settings import get_settings
from escalation import analytics, outcomes
from escalation.analytics import Durations, Scope
from escalation.auth import create_agent
from escalation.db import session_scope
from escalation.models import Author, OutcomeKind, TicketStatus
from escalation.sla import load_policy
from escalation.tickets import Escalation, TranscriptLine, create_ticket_once, settle_durations
from helpdesk.supervisor import free_port
from tests.conftest import PROJECT_ROOT

#: Amsterdam, Monday to Friday 09:00-17:30 (08:00-16:30 UTC in November).
SHIPPED = load_policy(PROJECT_ROOT / "escalation" / "sla.yml")
MONDAY = datetime(2026, 11, 30, tzinfo=UTC)


def at(hour: int, minute: int = 0, day: int = 0) -> datetime:
    return MONDAY + timedelta(days=day, hours=hour, minutes=minute)


OUTCOMES = [
    # conversation, language, channel, kind, entry, helped, when
    ("c1", "en", "socketio", OutcomeKind.ANSWERED, "reset-password", True, at(9)),
    ("c2", "en", "socketio", OutcomeKind.ANSWERED, "refund-time", None, at(10)),
    ("c2", "en", "socketio", OutcomeKind.ANSWERED, "refund-time", None, at(11)),  # came back
    ("c3", "nl", "telegram", OutcomeKind.ANSWERED, "shipping-cost", False, at(12)),
    ("c4", "nl", "telegram", OutcomeKind.DECLINED, "shipping-cost", None, at(13)),
    ("c4", "nl", "telegram", OutcomeKind.DECLINED, None, None, at(13, 1)),
    ("c5", "en", "rest", OutcomeKind.CLARIFIED, "refund-time", None, at(15)),
    ("c6", "en", "socketio", OutcomeKind.ANSWERED, "reset-password", None, at(23, 30)),
    ("c6", "en", "socketio", OutcomeKind.ANSWERED, "reset-password", None, at(10, day=1)),
    ("c7", "en", "socketio", OutcomeKind.ANSWERED, "reset-password", True, at(9, day=-1)),
]
TICKETS = [
    # conversation, language, channel, reason, escalated, first response, resolved, csat
    ("c3", "nl", "telegram", "answer_did_not_help", at(12, 5), at(12, 35), at(14, 5), 4),
    ("c4", "nl", "telegram", "bot_could_not_answer", at(13, 2), at(13, 12), None, None),
    ("c8", "en", "socketio", "customer_request", at(16), at(17), at(18), 2),
]


@pytest.fixture
def known(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    for number, (conversation, language, channel, kind, entry, helped, when) in enumerate(
        OUTCOMES
    ):  # as the action server records them: "came back" is marked as it happens
        decision = outcomes.Decision(
            turn_key=f"{conversation}:{number}",
            conversation_id=conversation,
            channel=channel,
            language=language,
            kind=kind,
            entry_id=entry,
            score=0.9,
            question="…",
            occurred_at=when,
        )
        assert outcomes.record_decision(sessions, decision)
        assert not outcomes.record_decision(sessions, decision)  # once per turn
        if helped is not None:
            outcomes.record_feedback(
                sessions, conversation_id=conversation, entry_id=entry, helped=helped
            )
    with session_scope(sessions) as session:
        for conversation, language, channel, reason, escalated, first, resolved, csat in TICKETS:
            # As the action server makes them (the conversation counts as escalated), then
            # as the agents worked them.
            ticket, _ = create_ticket_once(
                session,
                escalation=Escalation(
                    key=f"{conversation}:t",
                    conversation_id=conversation,
                    channel=channel,
                    language=language,
                    language_confidence=0.9,
                    reason=reason,
                    transcript=[TranscriptLine(Author.CUSTOMER, "a person please", escalated)],
                ),
            )
            ticket.escalated_at, ticket.first_agent_response_at = escalated, first
            ticket.resolved_at, ticket.csat = resolved, csat
            ticket.status = TicketStatus.RESOLVED if resolved else TicketStatus.OPEN
            settle_durations(ticket, SHIPPED)  # as the reply and the resolution do
    return sessions


def test_the_day_s_summary(known: sessionmaker[Session]) -> None:
    with known() as session:
        day = analytics.summary(session, Scope(MONDAY, at(0, day=1)))
    assert day.conversations == 7  # started on Monday: c1-c6 and c8 (c7 the day before)
    assert day.contained == 4  # c1, c2, c5, c6: no ticket
    assert day.containment_rate == pytest.approx(4 / 7)
    # c1 only: c2 asked again, c5 was never answered, c6 came back the next morning
    assert day.verified_deflections == 1
    # in those conversations: c1 1, c2 2, c3 1, c6 2 (Monday night and Tuesday) answers
    assert (day.answered, day.clarified, day.declined) == (6, 1, 2)
    assert (day.rated_helped, day.rated_not_helped) == (1, 1)
    assert day.escalations == 3
    assert day.escalation_reasons == {
        "answer_did_not_help": 1,
        "bot_could_not_answer": 1,
        "customer_request": 1,
    }
    # first responses 30, 10, 60 min; nearest rank: p50 the 2nd of 3, p90 the 3rd
    assert day.first_response == Durations(3, 1800.0, 3600.0)
    # in business time c8 (17:00-18:00 local, closing 17:30) took 30 min: 10, 30, 30 min
    assert day.first_response_business == Durations(3, 1800.0, 1800.0)
    assert day.resolution == Durations(2, 7200.0, 7200.0)
    assert day.resolution_business == Durations(2, 1800.0, 7200.0)  # c8: 30 open minutes
    assert (day.csat_count, day.csat_average) == (2, 3.0)
    assert day.csat_distribution == {1: 0, 2: 1, 3: 0, 4: 1, 5: 0}


def test_per_language_per_day_and_per_entry(known: sessionmaker[Session]) -> None:
    two_days = Scope(MONDAY, at(0, day=2))
    with known() as session:
        languages = dict(analytics.breakdown(session, Scope(MONDAY, at(0, day=1)), by="language"))
        days = analytics.series(session, two_days, bucket="day")
        per_entry = {row.entry_id: row for row in analytics.entries(session, two_days)}
        telegram = analytics.summary(session, Scope(MONDAY, at(0, day=1), channel="telegram"))
    assert (languages["en"].conversations, languages["en"].contained) == (5, 4)
    assert (languages["nl"].conversations, languages["nl"].contained) == (2, 0)
    assert [start for start, _ in days] == [MONDAY, at(0, day=1)]
    tuesday = days[1][1]
    assert (tuesday.conversations, tuesday.answered) == (0, 0)  # c6 started on Monday
    assert (telegram.conversations, telegram.escalations) == (2, 2)
    assert per_entry["reset-password"].answered == 3  # c1, and c6 on Monday and on Tuesday
    assert per_entry["reset-password"].acceptance_rate == 1.0
    assert per_entry["refund-time"].acceptance_rate is None  # nobody rated it
    assert per_entry["shipping-cost"].acceptance_rate == 0.0


def test_day_buckets_are_calendar_days_of_the_time_zone(known: sessionmaker[Session]) -> None:
    """Amsterdam's clocks go forward on 29 March 2026: that day has 23 hours."""
    amsterdam = ZoneInfo("Europe/Amsterdam")
    since = datetime(2026, 3, 28, tzinfo=amsterdam).astimezone(UTC)
    until = datetime(2026, 3, 30, 12, tzinfo=amsterdam).astimezone(UTC)
    with known() as session:
        days = analytics.series(session, Scope(since, until), bucket="day", zone=amsterdam)
        from_noon = analytics.series(
            session, Scope(MONDAY + timedelta(hours=12), at(0, day=2)), bucket="day"
        )
        empty = analytics.series(session, Scope(MONDAY, MONDAY), bucket="day", zone=amsterdam)
    assert [start for start, _ in days] == [
        datetime(2026, 3, 27, 23, tzinfo=UTC),
        datetime(2026, 3, 28, 23, tzinfo=UTC),
        datetime(2026, 3, 29, 22, tzinfo=UTC),
    ]
    # a period starting at noon: its first day is the rest of that day, then whole days
    assert [start for start, _ in from_noon] == [MONDAY + timedelta(hours=12), at(0, day=1)]
    assert empty == []


def test_the_api_serves_the_same_figures(
    known: sessionmaker[Session],
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HELPDESK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HELPDESK_DATABASE_URL", database_url)
    monkeypatch.setenv("HELPDESK_RASA_PORT", str(free_port()))
    with session_scope(known) as session:
        create_agent(session, email="lea@shop.nl", name="Lea", password="long enough secret")
    get_settings.cache_clear()
    from escalation.api.main import app

    day = {"since": "2026-11-30T00:00:00Z", "until": "2026-12-01T00:00:00Z"}
    with TestClient(app) as client:
        assert client.get("/api/analytics/summary", params=day).status_code == 401
        token = client.post(
            "/api/auth/token", json={"email": "lea@shop.nl", "password": "long enough secret"}
        ).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        summary = client.get("/api/analytics/summary", params=day).json()
        by_channel = client.get("/api/analytics/breakdown", params={**day, "by": "channel"}).json()
        weeks = client.get("/api/analytics/series", params={**day, "bucket": "week"}).json()
        in_amsterdam = client.get("/api/analytics/series", params={**day, "tz": "Europe/Amsterdam"})
        on_mars = client.get("/api/analytics/series", params={**day, "tz": "Mars/Olympus_Mons"})
        entries = client.get("/api/analytics/entries", params=day).json()
        upside_down = client.get(
            "/api/analytics/summary", params={"since": day["until"], "until": day["since"]}
        )
    get_settings.cache_clear()
    assert (summary["conversations"], summary["contained"], summary["verified_deflections"]) == (
        7,
        4,
        1,
    )
    assert summary["containment_rate"] == pytest.approx(4 / 7)
    assert summary["first_response"] == {"count": 3, "p50_seconds": 1800.0, "p90_seconds": 3600.0}
    assert summary["csat_distribution"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 0}
    assert [(row["value"], row["summary"]["conversations"]) for row in by_channel] == [
        ("socketio", 4),  # c1, c2, c6, c8
        ("telegram", 2),
        ("rest", 1),
    ]
    assert len(weeks) == 1 and weeks[0]["summary"]["conversations"] == 7
    # Amsterdam's Monday ends at 23:00 UTC: the last UTC hour is Tuesday's there
    assert [p["start"] for p in in_amsterdam.json()] == [
        "2026-11-30T00:00:00Z",
        "2026-11-30T23:00:00Z",
    ]
    assert on_mars.status_code == 422 and "unknown time zone" in on_mars.text
    assert entries[0] == {
        "entry_id": "refund-time",
        "answered": 2,
        "helped": 0,
        "not_helped": 0,
        "acceptance_rate": None,
    }
    assert upside_down.status_code == 200 and upside_down.json()["conversations"] == 0


def test_the_report_command_writes_csv_json_and_a_real_png(
    known: sessionmaker[Session],
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from PIL import Image

    from helpdesk.cli import main

    monkeypatch.setenv("HELPDESK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HELPDESK_DATABASE_URL", database_url)
    get_settings.cache_clear()
    period = ["--since", "2026-11-30", "--until", "2026-12-02"]
    assert main(["report", *period, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    monday, tuesday = rows[0], rows[1]
    assert (monday["scope"], monday["conversations"], monday["contained"]) == ("day", "7", "4")
    assert (tuesday["conversations"], tuesday["answered"]) == ("0", "0")  # c6 began Monday
    assert {row["value"] for row in rows if row["scope"] == "language"} == {"en", "nl"}

    assert main(["report", *period, "--format", "json", "--by", "channel"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["summary"]["conversations"] == 7  # c6 on both days counts once
    assert document["by_channel"]["telegram"]["escalations"] == 2

    assert main(["report", *period]) == 0
    assert "conversations 7, contained 4 (57%)" in capsys.readouterr().out

    # Amsterdam's days: c6 began at 00:30 on Tuesday there (23:30 UTC on Monday).
    assert main(["report", *period, "--format", "csv", "--tz", "Europe/Amsterdam"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    monday, tuesday = rows[0], rows[1]
    assert monday["value"] == "2026-11-30T00:00:00+01:00"
    assert (monday["conversations"], tuesday["conversations"], tuesday["answered"]) == (
        "6",
        "1",
        "2",
    )
    assert main(["report", *period, "--tz", "Europe/Amsterdam"]) == 0
    assert capsys.readouterr().out.startswith(
        "2026-11-30 00:00 – 2026-12-02 00:00 Europe/Amsterdam"
    )
    assert main(["report", *period, "--tz", "Mars/Olympus_Mons"]) == 2
    assert "'Mars/Olympus_Mons' is not an IANA time zone" in capsys.readouterr().err

    picture = tmp_path / "week.png"
    assert main(["report", *period, "--format", "png", "--output", str(picture)]) == 0
    with Image.open(picture) as image:
        assert image.format == "PNG" and image.size == (1500, 975)  # 10 x 6.5 in at 150 dpi
        assert (
            len(image.convert("RGB").getcolors(maxcolors=100_000) or []) > 50
        )  # drawn on, not a blank canvas
    assert main(["report", "--since", "yesterday-ish"]) == 2  # a usage mistake, no traceback
    get_settings.cache_clear()
