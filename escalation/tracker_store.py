"""Rasa's SQL tracker store, read and pruned directly for data protection: Rasa's HTTP API
can read a conversation but not delete one. The table is Rasa 3.6's ``events`` (one row per
event, ``sender_id`` the conversation id, ``data`` the event as JSON)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, bindparam, inspect, text

from core.settings import Settings
from escalation.db import make_engine

EVENTS_TABLE = "events"


def tracker_url(settings: Settings) -> str:
    """Rasa's tracker store as `helpdesk run` configures it (helpdesk/rasa_project.py)."""
    return f"sqlite:///{settings.tracker_db_path.resolve()}"


def events_before(url: str, *, conversation_id: str, timestamp: float) -> list[dict[str, Any]]:
    """The conversation's stored events older than ``timestamp`` (its earlier sessions)."""
    return [
        event
        for event in conversation_events(url, conversation_id=conversation_id)
        if float(event.get("timestamp") or 0) < timestamp
    ]


def conversation_events(url: str, *, conversation_id: str) -> list[dict[str, Any]]:
    """Every stored event of the conversation, oldest first ([] before Rasa made the table)."""
    with _engine(url) as engine:
        if not inspect(engine).has_table(EVENTS_TABLE):
            return []
        query = text(f"SELECT data FROM {EVENTS_TABLE} WHERE sender_id = :sender ORDER BY id")
        with engine.connect() as connection:
            rows = connection.execute(query, {"sender": conversation_id}).scalars()
            return [json.loads(row) for row in rows if row]


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
