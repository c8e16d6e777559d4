"""Backup and restore of everything a helpdesk needs to come back: the ticket database,
Rasa's tracker store and the conversation secret (without it, every customer's id stops
working). The FAQ index and the Rasa model are rebuilt from the project, not backed up.

Online and consistent: SQLite through its backup API (a snapshot while others write),
PostgreSQL through ``pg_dump`` (one transaction). Restore is for a stopped helpdesk.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from core.errors import ConfigurationError
from core.settings import Settings, conversation_secret
from escalation.models import utc_now

TICKETS_SQLITE = "helpdesk.db"
TICKETS_POSTGRES = "helpdesk.pgdump"
TRACKER = "tracker.db"
TRACKER_POSTGRES = "tracker.pgdump"
SECRET = "conversation.secret"
MANIFEST = "manifest.json"


def backup(settings: Settings, target: Path) -> list[str]:
    """Write a backup into the new directory ``target`` (owner-only); the files written."""
    target.mkdir(mode=0o700, parents=True, exist_ok=False)
    written = [_backup_database(settings.database, target, TICKETS_SQLITE, TICKETS_POSTGRES)]
    if _is_postgres(settings.tracker_store) or settings.tracker_db_path.exists():
        written.append(_backup_database(settings.tracker_store, target, TRACKER, TRACKER_POSTGRES))
    _private_write(target / SECRET, conversation_secret(settings))
    written.append(SECRET)
    manifest = {"made_at": utc_now().isoformat(), "files": written}
    _private_write(target / MANIFEST, json.dumps(manifest, indent=2))
    return [*written, MANIFEST]


def restore(settings: Settings, source: Path) -> list[str]:
    """Put a backup made by :func:`backup` in place; the files restored."""
    manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    files: list[str] = manifest["files"]
    for url, sqlite_name, postgres_name, setting in (
        (settings.database, TICKETS_SQLITE, TICKETS_POSTGRES, "HELPDESK_DATABASE_URL"),
        (settings.tracker_store, TRACKER, TRACKER_POSTGRES, "HELPDESK_TRACKER_STORE_URL"),
    ):
        if postgres_name in files:
            if not _is_postgres(url):
                raise ConfigurationError(f"this backup is of PostgreSQL: set {setting} to one")
            _pg(url, "pg_restore", "--clean", "--if-exists", "--no-owner",
                "--single-transaction", str(source / postgres_name))  # fmt: skip
        elif sqlite_name in files:
            _sqlite_copy(source / sqlite_name, _sqlite_path(url))
    secret = (source / SECRET).read_text(encoding="utf-8").strip()
    if settings.conversation_secret is None:
        _private_write(settings.data_dir / SECRET, secret)
    return files


def _backup_database(url: str, target: Path, sqlite_name: str, postgres_name: str) -> str:
    """A consistent copy of the database at ``url`` in ``target``; the file's name."""
    if _is_postgres(url):
        _pg(url, "pg_dump", "--format=custom", f"--file={target / postgres_name}")
        os.chmod(target / postgres_name, 0o600)
        return postgres_name
    _sqlite_copy(_sqlite_path(url), target / sqlite_name)
    return sqlite_name


def _is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def _sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database (its backup API), readable by its owner."""
    if not source.exists():
        raise ConfigurationError(f"no database at {source}")
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o600))
    origin, copy = sqlite3.connect(source), sqlite3.connect(target)
    try:
        origin.backup(copy)
    finally:
        origin.close()
        copy.close()


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database:
        raise ConfigurationError(f"not a SQLite file URL: {url}")
    return Path(database)


def _pg(database_url: str, tool: str, *arguments: str) -> None:
    """Run a PostgreSQL client tool (Debian's postgresql-client) on the database; the
    password goes by environment, not on a command line that `ps` shows."""
    installed = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{tool}"), reverse=True)
    found = shutil.which(tool) or next((str(path) for path in installed), None)
    if found is None:
        raise ConfigurationError(f"{tool} not found: install PostgreSQL's client tools")
    url = make_url(database_url)
    libpq = url.set(drivername="postgresql", password=None).render_as_string()
    env = {**os.environ, "PGPASSWORD": url.password or ""} if url.password else None
    command = [found, f"--dbname={libpq}", *arguments]
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if result.returncode != 0:
        raise ConfigurationError(f"{tool} failed: {result.stderr.strip()[:500]}")


def _private_write(path: Path, content: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(content)
