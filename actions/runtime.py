"""The action server's shared services, built once per process from the settings."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy.orm import Session, sessionmaker

from escalation.db import make_engine
from escalation.triggers import KeywordRule, load_keyword_rules
from helpdesk.settings import Settings, get_settings
from knowledge import KnowledgeBase
from knowledge.base import Thresholds
from knowledge.calibration import resolve_thresholds


def configured_thresholds(settings: Settings) -> Thresholds:
    """The model's calibrated thresholds with any HELPDESK_*_THRESHOLD override applied."""
    return resolve_thresholds(
        settings.embedding_model,
        dense=settings.dense_threshold,
        lexical=settings.lexical_threshold,
    )


@lru_cache
def get_knowledge_base() -> KnowledgeBase:
    """The process's knowledge base (FAQ parsed; model and index loaded on warm-up)."""
    settings = get_settings()
    return KnowledgeBase.from_path(
        settings.faq_path,
        model=settings.embedding_model,
        index_dir=settings.index_dir,
        threads=settings.embedding_threads,
        default_language=settings.default_language,
        thresholds=configured_thresholds(settings),
    )


@lru_cache
def get_ticket_sessions() -> sessionmaker[Session]:
    """Sessions on the ticket database (migrated by the service at start-up)."""
    return sessionmaker(make_engine(get_settings().database), expire_on_commit=False)


@lru_cache
def get_keyword_rules() -> tuple[KeywordRule, ...]:
    """The topic/keyword escalation rules (read once per process)."""
    return load_keyword_rules(get_settings().keyword_rules_path)
