"""PostgreSQL and Redis from Debian's packages, run privately on loopback for one helpdesk
(`helpdesk run --replicas N --local-services`) or one test run, each with its data in a
directory of its own. A shop that has its own servers points the HELPDESK_*_URL settings
at them instead."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
from pathlib import Path

import psycopg
from psycopg import sql

from core.errors import ConfigurationError
from helpdesk.supervisor import ManagedProcess

POSTGRES_BIN = Path("/usr/lib/postgresql")
REDIS_SERVER = Path("/usr/bin/redis-server")
#: PostgreSQL refuses to run as root; as root it runs as the package's own user.
POSTGRES_USER = "postgres"


def postgres_installed() -> bool:
    return bool(_postgres_bindirs())


def redis_installed() -> bool:
    return REDIS_SERVER.exists()


def postgres_server(
    directory: Path, port: int, *, log_path: Path, durable: bool = True
) -> ManagedProcess:
    """A PostgreSQL server on 127.0.0.1:``port`` with its cluster in ``directory`` (made on
    first use; trust authentication, reachable from loopback only). ``durable=False``
    (tests) turns fsync off."""
    bindirs = _postgres_bindirs()
    if not bindirs:
        raise ConfigurationError("PostgreSQL is not installed: apt-get install postgresql")
    bindir = bindirs[-1]
    as_postgres = ["runuser", "-u", POSTGRES_USER, "--"] if os.geteuid() == 0 else []
    if not (directory / "PG_VERSION").exists():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if as_postgres:
            shutil.chown(directory, POSTGRES_USER, POSTGRES_USER)
        initdb = [str(bindir / "initdb"), "-D", str(directory), "-U", POSTGRES_USER]
        made = subprocess.run(
            [*as_postgres, *initdb, "--auth=trust", "-E", "UTF8"], capture_output=True, text=True
        )
        if made.returncode != 0:
            raise ConfigurationError(f"initdb failed in {directory}: {made.stderr.strip()[:300]}")
    options = ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"]
    if not durable:
        options += ["-c", "fsync=off", "-c", "synchronous_commit=off"]
    command = [
        str(bindir / "postgres"),
        "-D",
        str(directory),
        "-p",
        str(port),
        "-k",
        str(directory),
    ]
    return ManagedProcess(
        name="PostgreSQL",
        command=[*as_postgres, *command, *options],
        health_url=None,
        ready=lambda: _postgres_answers(port),
        log_path=log_path,
    )


def redis_server(directory: Path, port: int, *, log_path: Path) -> ManagedProcess:
    """A Redis server on 127.0.0.1:``port``, its append-only file in ``directory``."""
    if not redis_installed():
        raise ConfigurationError("Redis is not installed: apt-get install redis-server")
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    command = [
        str(REDIS_SERVER), "--port", str(port), "--bind", "127.0.0.1",
        "--dir", str(directory), "--appendonly", "yes", "--save", "",
        "--protected-mode", "yes",
    ]  # fmt: skip
    return ManagedProcess(
        name="Redis",
        command=command,
        health_url=None,
        ready=lambda: _redis_answers(port),
        log_path=log_path,
    )


def postgres_url(port: int, database: str = "postgres") -> str:
    return f"postgresql://{POSTGRES_USER}@127.0.0.1:{port}/{database}"


def create_database(port: int, name: str) -> str:
    """Create the database ``name`` unless it exists; its URL."""
    with psycopg.connect(postgres_url(port), autocommit=True) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if found.fetchone() is None:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return postgres_url(port, name)


def postgres_directory(data_dir: Path) -> Path:
    """Where a run's own PostgreSQL cluster lives: in the data dir, or, as root (the server
    then runs as `postgres`, who cannot enter root's private data dir), in that user's home."""
    if os.geteuid() != 0:
        return data_dir / "services" / "postgres"
    tag = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:12]
    return Path("/var/lib/postgresql") / f"helpdesk-{tag}"


def _postgres_bindirs() -> list[Path]:
    return sorted(path.parent for path in POSTGRES_BIN.glob("*/bin/postgres"))


def _postgres_answers(port: int) -> bool:
    try:
        with psycopg.connect(postgres_url(port), connect_timeout=2) as connection:
            connection.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False
