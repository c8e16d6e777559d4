"""Backup and restore round trip on SQLite and PostgreSQL: tickets, Rasa's tracker store and
the conversation secret come back as they were; the backup is readable by its owner only."""

from __future__ import annotations

import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from core.identity import new_conversation_id
from core.settings import conversation_secret, get_settings
from escalation.db import make_engine, session_scope
from escalation.models import Ticket
from escalation.privacy import erase_customer_tickets
from helpdesk import cli, services
from tests.escalation.test_privacy import ticket_of


@pytest.fixture
def data_dir(
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Iterator[Path]:
    """The data dir; on PostgreSQL, Rasa's tracker store in a database of its own there too."""
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("HELPDESK_DATA_DIR", str(data))
    monkeypatch.setenv("HELPDESK_DATABASE_URL", database_url)
    if database_url.startswith("postgresql"):
        port = int(request.getfixturevalue("postgres_port"))
        tracker = services.create_database(port, f"tracker_{uuid.uuid4().hex[:12]}")
        monkeypatch.setenv("HELPDESK_TRACKER_STORE_URL", tracker)
    get_settings.cache_clear()
    yield data
    get_settings.cache_clear()


def tracker_rows() -> list[str]:
    engine = make_engine(get_settings().tracker_store)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT sender_id FROM events ORDER BY id")).scalars()
        found = list(rows)
    engine.dispose()
    return found


def tracker_write(*statements: str) -> None:
    engine = make_engine(get_settings().tracker_store)
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    engine.dispose()


def test_a_backup_brings_back_tickets_conversations_and_ids(
    data_dir: Path, tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as session:
        ticket_of(session, "alice")
    tracker_write(  # Rasa's table, as its SQL tracker store makes it
        "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, data TEXT)",
        "INSERT INTO events (id, sender_id, data) VALUES (1, 'alice', '{}')",
    )
    secret = conversation_secret(get_settings())
    backup_dir = tmp_path / "backup"

    assert cli.main(["backup", str(backup_dir)]) == 0

    assert stat.S_IMODE(backup_dir.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in backup_dir.iterdir())
    with session_scope(sessions) as session:  # what happens after the backup is lost...
        erase_customer_tickets(session, conversation_id="alice")
        ticket_of(session, "bob")
    tracker_write("DELETE FROM events")
    (data_dir / "conversation.secret").write_text("another secret")

    assert cli.main(["restore", str(backup_dir), "--yes"]) == 0

    with session_scope(sessions) as session:  # ...and the backup's state is back
        assert session.scalars(select(Ticket.conversation_id)).all() == ["alice"]
        [ticket] = session.scalars(select(Ticket)).all()
        assert ticket.messages[0].text == "I am alice"
    assert tracker_rows() == ["alice"]
    get_settings.cache_clear()
    assert conversation_secret(get_settings()) == secret  # customers' ids still hold
    assert new_conversation_id(secret)


def test_a_backup_never_overwrites_and_a_restore_needs_a_backup(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["customer", "export", "x"]) == 0  # makes the database
    capsys.readouterr()
    (tmp_path / "taken").mkdir()
    assert cli.main(["backup", str(tmp_path / "taken")]) == 1
    assert "exists" in capsys.readouterr().err
    assert cli.main(["restore", str(tmp_path / "nothing"), "--yes"]) == 1
