"""Tickets: schema from migrations, exactly-once creation, the transcript kept in order."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from escalation.db import migrate, session_scope
from escalation.models import Author, Base, Ticket, TicketStatus
from escalation.tickets import Escalation, TranscriptLine, create_ticket_once

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def escalation(key: str = "conv-1:turn-7") -> Escalation:
    return Escalation(
        key=key,
        conversation_id="conv-1",
        channel="rest",
        language="nl",
        language_confidence=0.93,
        reason="customer_request",
        tried_entries=[{"entry_id": "refund-time", "score": 0.41}],
        transcript=[
            TranscriptLine(Author.CUSTOMER, "waar blijft mijn geld?", START),
            TranscriptLine(Author.BOT, "Ik weet het niet zeker.", START + timedelta(seconds=1)),
            TranscriptLine(
                Author.CUSTOMER,
                "<script>alert(1)</script> medewerker!",
                START + timedelta(seconds=9),
            ),
        ],
    )


def test_migrations_create_exactly_the_models_schema(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_migrating_twice_is_harmless(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'again.db'}"
    migrate(url)
    migrate(url)


def test_escalation_creates_a_waiting_ticket_with_the_whole_transcript(
    sessions: sessionmaker[Session],
) -> None:
    with session_scope(sessions) as session:
        ticket, created = create_ticket_once(session, escalation=escalation())
    assert created
    with sessions() as session:
        stored = session.get_one(Ticket, ticket.id)
        assert stored.status is TicketStatus.WAITING_FOR_AGENT
        assert (stored.language, stored.reason) == ("nl", "customer_request")
        assert stored.tried_entries == [{"entry_id": "refund-time", "score": 0.41}]
        assert [m.author for m in stored.messages] == [
            Author.CUSTOMER,
            Author.BOT,
            Author.CUSTOMER,
            Author.SYSTEM,
        ]
        assert stored.messages[2].text == "<script>alert(1)</script> medewerker!"  # text, as sent
        assert stored.messages[3].text == "Handed to a person (customer request)"
        assert stored.preview == "<script>alert(1)</script> medewerker!"
        assert stored.escalated_at is not None


def test_same_escalation_delivered_twice_returns_the_existing_ticket(
    sessions: sessionmaker[Session],
) -> None:
    with session_scope(sessions) as session:
        first, _ = create_ticket_once(session, escalation=escalation())
    with session_scope(sessions) as session:
        second, created = create_ticket_once(session, escalation=escalation())
    assert not created and second.id == first.id
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 1


def test_racing_deliveries_of_one_escalation_make_one_ticket(
    sessions: sessionmaker[Session],
) -> None:
    results: list[tuple[int, bool]] = []
    barrier = threading.Barrier(4)

    def deliver() -> None:
        barrier.wait()
        with session_scope(sessions) as session:
            ticket, created = create_ticket_once(session, escalation=escalation("race"))
            session.flush()
            results.append((ticket.id, created))

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4
    assert len({ticket_id for ticket_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1


def test_deleting_a_ticket_deletes_its_transcript(sessions: sessionmaker[Session]) -> None:
    with session_scope(sessions) as session:
        ticket, _ = create_ticket_once(session, escalation=escalation())
    with session_scope(sessions) as session:
        session.delete(session.get_one(Ticket, ticket.id))
    with sessions() as session:
        from escalation.models import TranscriptMessage

        assert session.scalar(select(func.count()).select_from(TranscriptMessage)) == 0


def test_times_come_back_as_utc_whatever_zone_they_were_written_in(
    sessions: sessionmaker[Session],
) -> None:
    amsterdam = timezone(timedelta(hours=1))
    with session_scope(sessions) as session:
        ticket, _ = create_ticket_once(session, escalation=escalation())
        ticket.resolved_at = datetime(2026, 11, 24, 10, 30, tzinfo=amsterdam)
    with sessions() as session:
        stored = session.scalars(select(Ticket)).one()
        assert stored.resolved_at == datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
        assert stored.resolved_at.utcoffset() == timedelta(0)
        assert stored.escalated_at.tzinfo is not None
