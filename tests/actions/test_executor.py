"""The action server runs calls from a Rasa that sends no domain (enable_selective_domain)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionMissingDomainException
from sqlalchemy.orm import Session, sessionmaker

from actions.executor import DomainlessExecutor
from knowledge import KnowledgeBase
from tests.actions.trackers import user

QUESTION = "Hoe kan ik mijn bestelling retourneren?"


def action_call() -> dict[str, Any]:
    """Rasa 3.6's request body for one action call, as selective domain sends it: no domain."""
    return {
        "next_action": "action_detect_language",
        "sender_id": "conv",
        "version": "3.6.21",
        "tracker": {
            "sender_id": "conv",
            "slots": {},
            "latest_message": {"text": QUESTION, "intent": {"name": "faq"}, "entities": []},
            "events": [user(QUESTION)],
            "paused": False,
            "latest_action_name": "action_listen",
        },
    }


def run(executor: ActionExecutor) -> list[dict[str, Any]]:
    executor.register_package("actions")
    result = asyncio.run(executor.run(action_call()))
    assert result is not None
    events: list[dict[str, Any]] = result.events
    return events


def test_a_call_without_a_domain_runs(
    faq: KnowledgeBase, ticket_sessions: sessionmaker[Session]
) -> None:
    events = run(DomainlessExecutor())
    assert {"event": "slot", "name": "language", "value": "nl"} in [
        {key: event.get(key) for key in ("event", "name", "value")} for event in events
    ]


def test_rasa_sdk_alone_refuses_a_call_without_a_domain(
    faq: KnowledgeBase, ticket_sessions: sessionmaker[Session]
) -> None:
    """Why DomainlessExecutor exists: this is what Rasa 3.6 meets without it."""
    with pytest.raises(ActionMissingDomainException):
        run(ActionExecutor())
