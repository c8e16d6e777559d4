"""Rasa's SQL tracker store, read and pruned directly for data protection: Rasa's HTTP API
can read a conversation but not delete one. The table is Rasa 3.6's ``events`` (one row per
event, ``sender_id`` the conversation id, ``data`` the event as JSON)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, bindparam, inspect, text

from escalation.db import make_engine

EVENTS_TABLE = "events"


def conversation_events(
    url: str, *, conversation_id: str, before: float | None = None
) -> list[dict[str, Any]]:
    """The conversation's stored events, oldest first; only those older than ``before`` (a
    Unix time: its earlier sessions) when given. [] before Rasa made the table."""
    with _engine(url) as engine:
        if not inspect(engine).has_table(EVENTS_TABLE):
            return []
        older = " AND timestamp < :before" if before is not None else ""
        query = text(
            f"SELECT data FROM {EVENTS_TABLE} WHERE sender_id = :sender{older} ORDER BY id"
        )
        with engine.connect() as connection:
            found = connection.execute(query, {"sender": conversation_id, "before": before})
            return [json.loads(row) for row in found.scalars() if row]


def delete_conversations(url: str, conversation_ids: Iterable[str]) -> int:
    """Delete the conversations' events; how many rows went."""
    ids = list(conversation_ids)
    with _engine(url) as engine:
        if not ids or not inspect(engine).has_table(EVENTS_TABLE):
            return 0
        query = text(f"DELETE FROM {EVENTS_TABLE} WHERE sender_id IN :senders").bindparams(
            bindparam("senders", expanding=True)
        )
        with engine.begin() as connection:
            return int(connection.execute(query, {"senders": ids}).rowcount)


@contextmanager
def _engine(url: str) -> Iterator[Engine]:
    """A short-lived engine: these are rare operator commands, not request paths."""
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
