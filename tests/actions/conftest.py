"""Fixtures of the actions' unit tests: a real ticket database and the real sample FAQ."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from core.settings import get_settings
from escalation.db import prepare
from knowledge import KnowledgeBase
from tests.conftest import sla_file


@pytest.fixture
def settings_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A data dir of the test's own (so a SQLite ticket database of its own)."""
    monkeypatch.setenv("HELPDESK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HELPDESK_SLA_PATH", str(sla_file(tmp_path / "sla.yml")))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


@pytest.fixture
def ticket_sessions(settings_env: Path) -> sessionmaker[Session]:
    """The migrated ticket database the actions write to."""
    return prepare(get_settings())


@pytest.fixture
def faq(
    sample_kb: KnowledgeBase,
    ticket_sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> KnowledgeBase:
    """The sample FAQ as the actions' knowledge base (instead of the one built from settings),
    and a ticket database (the FAQ action first checks that no person owns the conversation)."""
    import actions.faq
    import actions.language
    import actions.outcomes

    for module in (actions.faq, actions.language, actions.outcomes):
        monkeypatch.setattr(module, "get_knowledge_base", lambda: sample_kb)
    return sample_kb
