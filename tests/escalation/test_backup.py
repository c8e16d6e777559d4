"""Backup and restore round trip on SQLite and PostgreSQL: tickets, Rasa's tracker store and
the conversation secret come back as they were; the backup is readable by its owner only."""

from __future__ import annotations

import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.identity import new_conversation_id
from core.settings import conversation_secret, get_settings
from escalation.db import session_scope
from escalation.models import Ticket
from escalation.privacy import erase_customer_tickets
from helpdesk import cli
from tests.escalation.test_privacy import ticket_of


@pytest.fixture
def data_dir(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("HELPDESK_DATA_DIR", str(data))
    monkeypatch.setenv("HELPDESK_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield data
    get_settings.cache_clear()


def tracker_rows(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        return [row[0] for row in connection.execute("SELECT sender_id FROM events ORDER BY id")]


def test_a_backup_brings_back_tickets_conversations_and_ids(
    data_dir: Path, tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as session:
        ticket_of(session, "alice")
    tracker = data_dir / "tracker.db"
    with sqlite3.connect(tracker) as connection:  # Rasa's table, as its SQL tracker store makes it
        connection.execute(
            "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, data TEXT)"
        )
        connection.execute("INSERT INTO events (sender_id, data) VALUES ('alice', '{}')")
    secret = conversation_secret(get_settings())
    backup_dir = tmp_path / "backup"

    assert cli.main(["backup", str(backup_dir)]) == 0

    assert stat.S_IMODE(backup_dir.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in backup_dir.iterdir())
    with session_scope(sessions) as session:  # what happens after the backup is lost...
        erase_customer_tickets(session, conversation_id="alice")
        ticket_of(session, "bob")
    with sqlite3.connect(tracker) as connection:
        connection.execute("DELETE FROM events")
    (data_dir / "conversation.secret").write_text("another secret")

    assert cli.main(["restore", str(backup_dir), "--yes"]) == 0

    with session_scope(sessions) as session:  # ...and the backup's state is back
        assert session.scalars(select(Ticket.conversation_id)).all() == ["alice"]
        [ticket] = session.scalars(select(Ticket)).all()
        assert ticket.messages[0].text == "I am alice"
    assert tracker_rows(tracker) == ["alice"]
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
