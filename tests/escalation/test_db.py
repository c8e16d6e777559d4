"""The ticket database as every process prepares it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from core.settings import Settings
from escalation.db import prepare


def test_a_sqlite_database_is_prepared_in_write_ahead_log_mode(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    prepare(settings)
    database = make_url(settings.database).database
    assert database is not None
    with sqlite3.connect(database) as connection:
        # a fresh connection reads the mode from the file: it is kept there, for every process
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_writer_does_not_wait_for_a_reader(tmp_path: Path) -> None:
    """The action server records an outcome while the API is in the middle of a read."""
    settings = Settings(data_dir=tmp_path)
    prepare(settings)
    database = make_url(settings.database).database
    assert database is not None
    reader = sqlite3.connect(database, isolation_level=None)
    writer = sqlite3.connect(database, isolation_level=None, timeout=0)
    try:
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM tickets").fetchone() == (0,)
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("DELETE FROM tickets")
        writer.execute("COMMIT")  # "database is locked" without the log
        reader.execute("COMMIT")
    finally:
        writer.close()
        reader.close()
