"""A customer's data: exported whole, erased whole, and retention that keeps what is still
open. On SQLite and PostgreSQL; the erase through the real stack is in tests/e2e."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.settings import get_settings
from escalation import tickets
from escalation.auth import create_agent
from escalation.db import session_scope
from escalation.models import Author, Delivery, Ticket, TicketStatus, TranscriptMessage, utc_now
from escalation.privacy import customer_tickets, erase_customer_tickets, expired_conversations
from escalation.tickets import Escalation, TranscriptLine, create_ticket_once
from helpdesk import cli


def ticket_of(session: Session, conversation_id: str, *, key: str = "1") -> Ticket:
    escalation = Escalation(
        key=f"{conversation_id}:{key}",
        conversation_id=conversation_id,
        channel="rest",
        language="en",
        language_confidence=0.9,
        reason="customer_request",
        transcript=[TranscriptLine(Author.CUSTOMER, f"I am {conversation_id}", utc_now())],
    )
    ticket, _ = create_ticket_once(session, escalation=escalation)
    session.flush()
    return ticket


def test_a_customer_s_tickets_are_exported_whole_and_erased_whole(
    sessions: sessionmaker[Session],
) -> None:
    with session_scope(sessions) as session:
        agent = create_agent(
            session, email="a@example.com", name="Ann", password="long secret words"
        )
        mine = ticket_of(session, "alice")
        tickets.add_reply(session, ticket=mine, agent=agent, text="Hello Alice")
        ticket_of(session, "bob")
    with session_scope(sessions) as session:
        [record] = customer_tickets(session, conversation_id="alice")
        json.dumps(record)  # plain JSON values throughout
        said = [(m["author"], m["agent"], m["text"]) for m in record["messages"]]
        assert said[0] == ("customer", None, "I am alice")
        assert ("agent", "Ann", "Hello Alice") in said
        assert erase_customer_tickets(session, conversation_id="alice") == 1
    with session_scope(sessions) as session:
        texts = session.scalars(select(TranscriptMessage.text)).all()
        assert not any("alice" in text.lower() for text in texts)
        assert session.scalars(select(Delivery)).all() == []
        assert session.scalars(select(Ticket.conversation_id)).all() == ["bob"]


def test_retention_takes_only_conversations_whose_every_ticket_closed_long_ago(
    sessions: sessionmaker[Session],
) -> None:
    long_ago, lately = utc_now() - timedelta(days=40), utc_now() - timedelta(days=5)
    with session_scope(sessions) as session:
        for conversation_id, resolved_at in [("old", long_ago), ("recent", lately)]:
            ticket = ticket_of(session, conversation_id)
            ticket.status, ticket.resolved_at = TicketStatus.CLOSED, resolved_at
        ticket_of(session, "open")  # waiting for an agent since whenever
        back = ticket_of(session, "came-back")
        back.status, back.resolved_at = TicketStatus.RESOLVED, long_ago
        ticket_of(session, "came-back", key="2")  # ...and has an open ticket now
    with session_scope(sessions) as session:
        cutoff = utc_now() - timedelta(days=30)
        assert expired_conversations(session, closed_before=cutoff) == ["old"]


@pytest.fixture
def data_dir(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HELPDESK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HELPDESK_DATABASE_URL", database_url)
    get_settings.cache_clear()
    return tmp_path


def test_the_cli_exports_erases_and_applies_retention(
    data_dir: Path,
    sessions: sessionmaker[Session],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    try:
        assert cli.main(["customer", "export", "alice"]) == 0  # migrates an empty database
        assert json.loads(capsys.readouterr().out)["tickets"] == []
        with session_scope(sessions) as session:
            ticket_of(session, "alice")
        assert cli.main(["customer", "export", "alice"]) == 0
        exported = json.loads(capsys.readouterr().out)
        assert exported["tickets"][0]["messages"][0]["text"] == "I am alice"
        assert exported["conversation"] == []  # Rasa never saw this one
        monkeypatch.setattr("sys.stdin", _lines("n"))
        assert cli.main(["customer", "erase", "alice"]) == 1  # not confirmed: nothing erased
        assert cli.main(["customer", "erase", "alice", "--yes"]) == 0
        assert "erased 1 conversation(s): 1 ticket(s)" in capsys.readouterr().out
        assert cli.main(["customer", "retention"]) == 1
        assert "HELPDESK_RETENTION_DAYS" in capsys.readouterr().err
        assert cli.main(["customer", "retention", "--days", "30"]) == 0
    finally:
        get_settings.cache_clear()


def _lines(*lines: str) -> object:
    import io

    return io.StringIO("".join(f"{line}\n" for line in lines))
