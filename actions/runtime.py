"""The action server's shared services, built once per process from the settings."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy.orm import Session, sessionmaker

from actions.live_faq import LiveFaq
from core.settings import EscalationTrigger, get_settings
from escalation.db import session_factory
from escalation.sla import Policy, cached_policy
from escalation.triggers import KeywordRule, load_keyword_rules
from knowledge import KnowledgeBase
from knowledge.factory import knowledge_base_from


@lru_cache
def get_live_faq() -> LiveFaq:
    """The process's FAQ: the files' plus the entries published in the console."""
    return LiveFaq(knowledge_base_from(get_settings()), get_ticket_sessions())


def get_knowledge_base() -> KnowledgeBase:
    """The knowledge base to answer from now (the live FAQ's current one)."""
    return get_live_faq().current


def get_ticket_sessions() -> sessionmaker[Session]:
    """Sessions on the ticket database (prepared by the server at start-up)."""
    return session_factory(get_settings().database)


@lru_cache
def get_keyword_rules() -> tuple[KeywordRule, ...]:
    """The topic/keyword escalation rules (read once per process)."""
    return load_keyword_rules(get_settings().keyword_rules_path)


def get_sla_policy() -> Policy:
    """The service levels (read once per process; a malformed file stops the start)."""
    return cached_policy(get_settings().sla_path)


def escalates_on(trigger: EscalationTrigger) -> bool:
    """Whether the operator enabled this way of handing a conversation to a person."""
    return trigger in get_settings().escalation_triggers
