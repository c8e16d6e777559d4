"""Benchmark: analytics over a million recorded FAQ turns. Not a test.

Generates ``--turns`` synthetic outcomes (about two per conversation, a year of them, eight
languages, four channels, one conversation in ten escalated with its ticket, a third of the
answers rated) into a throwaway database, SQLite by default or ``--database-url``, then
times each figure the API and `helpdesk report` compute, three runs each, and prints the
median.

    .venv/bin/python scripts/bench_analytics.py --turns 1000000
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from core.settings import PROJECT_ROOT
from escalation import analytics
from escalation.analytics import Scope
from escalation.db import make_engine, migrate
from escalation.models import (
    ConversationOutcome,
    OutcomeKind,
    Priority,
    Ticket,
    TicketStatus,
    TurnOutcome,
)
from escalation.sla import load_policy

LANGUAGES = ["en", "nl", "pt", "el", "ru", "de", "fr", "es"]
CHANNELS = ["socketio", "telegram", "twilio", "rest"]
ENTRIES = [f"entry-{number}" for number in range(120)]
END = datetime(2026, 12, 1, tzinfo=UTC)
BATCH = 20_000


def generate(sessions: sessionmaker[Session], turns: int, seed: int) -> tuple[int, int]:
    """Outcomes, tickets (with the durations the API writes) and the conversations' totals;
    how many turns and conversations."""
    rng = random.Random(seed)
    calendar = load_policy(PROJECT_ROOT / "escalation" / "sla.yml").calendar
    rows: list[dict[str, object]] = []
    tickets: list[dict[str, object]] = []
    conversations: list[dict[str, object]] = []
    made = conversation = 0
    while made < turns:
        conversation += 1
        language, channel = rng.choice(LANGUAGES), rng.choice(CHANNELS)
        start = END - timedelta(seconds=rng.randrange(365 * 86400))
        entry = rng.choice(ENTRIES)
        count = min(rng.choice([1, 1, 2, 2, 3, 4]), turns - made)
        for turn in range(count):
            kind = rng.choices(list(OutcomeKind), weights=[70, 10, 20])[0]
            rows.append(
                {
                    "turn_key": f"c{conversation}:{turn}",
                    "conversation_id": f"c{conversation}",
                    "occurred_at": start + timedelta(minutes=2 * turn),
                    "channel": channel,
                    "language": language,
                    "kind": kind,
                    "entry_id": entry if turn == 0 else rng.choice(ENTRIES),
                    "score": round(rng.uniform(0.7, 0.95), 4),
                    "question": "synthetic question",
                    "helped": rng.choice([None, None, True, False])
                    if kind == OutcomeKind.ANSWERED
                    else None,
                    "came_back": kind == OutcomeKind.ANSWERED and rng.random() < 0.05,
                }
            )
        made += count
        added = rows[-count:]
        escalated_now = rng.random() < 0.1
        conversations.append(
            {
                "conversation_id": f"c{conversation}",
                "started_at": start,
                "language": language,
                "channel": channel,
                **{
                    kind.value: sum(1 for row in added if row["kind"] == kind)
                    for kind in OutcomeKind
                },
                "helped": sum(1 for row in added if row["helped"] is True),
                "not_helped": sum(1 for row in added if row["helped"] is False),
                "came_back": sum(1 for row in added if row["came_back"]),
                "escalated": escalated_now,
            }
        )
        if escalated_now:
            escalated = start + timedelta(minutes=2 * count)
            answered = escalated + timedelta(minutes=rng.randrange(2, 600))
            tickets.append(
                {
                    "escalation_key": f"c{conversation}:t",
                    "conversation_id": f"c{conversation}",
                    "channel": channel,
                    "language": language,
                    "language_confidence": 0.9,
                    "reason": rng.choice(["customer_request", "bot_could_not_answer"]),
                    "status": TicketStatus.RESOLVED,
                    "priority": Priority.NORMAL,
                    "tried_entries": [],
                    "escalated_at": escalated,
                    "first_agent_response_at": answered,
                    "resolved_at": (
                        resolved := answered + timedelta(minutes=rng.randrange(5, 3000))
                    ),
                    "first_response_seconds": (answered - escalated).total_seconds(),
                    "resolution_seconds": (resolved - escalated).total_seconds(),
                    "first_response_business_seconds": calendar.open_time_between(
                        escalated, answered
                    ).total_seconds(),
                    "resolution_business_seconds": calendar.open_time_between(
                        escalated, resolved
                    ).total_seconds(),
                    "csat": rng.choice([None, 1, 2, 3, 4, 5]),
                }
            )
        if len(rows) >= BATCH:
            _flush(sessions, rows, tickets, conversations)
    _flush(sessions, rows, tickets, conversations)
    return made, conversation


def _flush(sessions: sessionmaker[Session], *batches: list[dict[str, object]]) -> None:
    """Outcomes, tickets and the conversations' totals, as the recording adds them up."""
    with sessions.begin() as session:
        for table, batch in zip((TurnOutcome, Ticket, ConversationOutcome), batches, strict=True):
            if batch:
                session.execute(insert(table), batch)
            batch.clear()


def timed(label: str, work: Callable[[], object]) -> None:
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        work()
        runs.append(time.perf_counter() - started)
    print(f"  {label:<44} median {statistics.median(runs) * 1000:8.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="default: SQLite in a temporary directory")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite:///{Path(scratch) / 'bench.db'}"
        migrate(url)
        engine = make_engine(url)
        sessions = sessionmaker(engine, expire_on_commit=False)
        started = time.perf_counter()
        turns, conversations = generate(sessions, args.turns, args.seed)
        print(
            f"{turns} turns in {conversations} conversations generated in "
            f"{time.perf_counter() - started:.0f} s ({engine.dialect.name})"
        )
        with sessions() as session:
            for days in (7, 30, 365):
                scope = Scope(END - timedelta(days=days), END)
                timed(f"summary, last {days} days", partial(analytics.summary, session, scope))
            month = Scope(END - timedelta(days=30), END)
            dutch_month = Scope(month.since, month.until, language="nl")
            timed(
                "summary, last 30 days, one language",
                lambda: analytics.summary(session, dutch_month),
            )
            timed(
                "per day, last 30 days",
                lambda: analytics.series(session, month, bucket="day"),
            )
            timed(
                "per week, last 365 days",
                lambda: analytics.series(
                    session, Scope(END - timedelta(days=365), END), bucket="week"
                ),
            )
            timed(
                "per language, last 30 days",
                lambda: analytics.breakdown(session, month, by="language"),
            )
            timed("per FAQ entry, last 30 days", lambda: analytics.entries(session, month))
            timed(
                "per FAQ entry, last 365 days",
                lambda: analytics.entries(session, Scope(END - timedelta(days=365), END)),
            )
        engine.dispose()


if __name__ == "__main__":
    main()
