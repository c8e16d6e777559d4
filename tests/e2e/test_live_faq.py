"""An FAQ entry published in the console is answered by the running bot within seconds (no
restart, no retraining), and no longer once unpublished: REST channel, real stack."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from core.settings import Settings
from escalation.auth import agent_by_email, create_agent
from escalation.db import session_scope
from escalation.models import Role
from tests.e2e.clients import new_sender

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "editor secret words 7"
QUESTION = "Do you sell gift cards?"
ANSWER = "Yes: gift cards of 25, 50 or 100 euro, at checkout."


@pytest.fixture(scope="module")
def editor(running_stack: Settings, ticket_db: sessionmaker[Session]) -> Iterator[httpx.Client]:
    with session_scope(ticket_db) as session:
        if agent_by_email(session, email="eva@example.com") is None:
            create_agent(
                session, email="eva@example.com", name="Eva", password=PASSWORD, role=Role.EDITOR
            )
    base = f"http://{running_stack.host}:{running_stack.api_port}"
    with httpx.Client(base_url=base, timeout=30) as client:
        token = client.post(
            "/api/auth/token", json={"email": "eva@example.com", "password": PASSWORD}
        )
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        yield client


def first_reply(stack: Settings, text: str) -> str:
    response = httpx.post(
        f"http://{stack.host}:{stack.rasa_port}/webhooks/rest/webhook",
        json={"sender": new_sender(stack), "message": text},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return str(response.json()[0]["text"])


def seconds_until(stack: Settings, answered: bool, limit: float = 5.0) -> float:
    """How long until the bot does (or no longer does) answer QUESTION with ANSWER."""
    started = time.monotonic()
    while (first_reply(stack, QUESTION) == ANSWER) != answered:
        if time.monotonic() - started > limit:
            raise AssertionError(f"not {'answered' if answered else 'withdrawn'} in {limit} s")
        time.sleep(0.3)
    return time.monotonic() - started


def test_published_within_seconds_and_withdrawn_again(
    running_stack: Settings, editor: httpx.Client
) -> None:
    assert first_reply(running_stack, QUESTION) != ANSWER  # the sample FAQ has no such entry
    entry = {"entry_id": "gift-cards", "variants": {"en": {"question": QUESTION, "answer": ANSWER,
             "alternatives": ["can I buy a gift voucher"]}}}  # fmt: skip
    made = editor.post("/api/faq/entries", json=entry)
    assert made.status_code == 201, made.text
    key = made.json()["id"]
    assert editor.post(f"/api/faq/entries/{key}/publish").status_code == 200
    assert seconds_until(running_stack, answered=True) < 5
    assert first_reply(running_stack, "can I buy a gift voucher") == ANSWER
    assert editor.post(f"/api/faq/entries/{key}/unpublish").status_code == 200
    assert seconds_until(running_stack, answered=False) < 5
