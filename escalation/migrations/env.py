"""Alembic environment: the URL comes from the caller's Config (escalation.db.migrate)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from escalation.db import make_engine
from escalation.models import Base

#: Any fixed number: the PostgreSQL advisory lock that API replicas starting together take,
#: so that one migrates and the others then find the schema current.
MIGRATION_LOCK = 7_210_001

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connectable = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by copy
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
                )
            context.run_migrations()
    connectable.dispose()


run_migrations()
