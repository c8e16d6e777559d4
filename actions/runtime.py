"""The action server's shared services, built once per process from the settings."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy.orm import Session, sessionmaker

from escalation.db import make_engine
from escalation.triggers import KeywordRule, load_keyword_rules
from helpdesk.settings import Settings, get_settings
from knowledge import KnowledgeBase
from knowledge.embedder import Embedder
from knowledge.loader import load_faq


def configured_embedder(settings: Settings) -> Embedder:
    """The embedding model of the settings (loaded on first use)."""
    return Embedder(
        settings.embedding_model,
        threads=settings.embedding_threads,
        query_prefix=settings.embedding_query_prefix,
        passage_prefix=settings.embedding_passage_prefix,
    )


@lru_cache
def get_knowledge_base() -> KnowledgeBase:
    """The process's knowledge base (FAQ parsed; model and index loaded on warm-up)."""
    settings = get_settings()
    return KnowledgeBase(
        load_faq(settings.faq_path),
        configured_embedder(settings),
        settings.index_dir,
        default_language=settings.default_language,
        answer_threshold=settings.answer_threshold,
    )


@lru_cache
def get_ticket_sessions() -> sessionmaker[Session]:
    """Sessions on the ticket database (migrated by the service at start-up)."""
    return sessionmaker(make_engine(get_settings().database), expire_on_commit=False)


@lru_cache
def get_keyword_rules() -> tuple[KeywordRule, ...]:
    """The topic/keyword escalation rules (read once per process)."""
    return load_keyword_rules(get_settings().keyword_rules_path)
