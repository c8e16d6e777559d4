"""Fixtures of the end-to-end tests: the running stack's ticket database and a signed-in agent."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from core.settings import Settings
from escalation.auth import agent_by_email, create_agent
from escalation.db import make_engine, session_scope

PASSWORD = "agent secret words 1"


@pytest.fixture(scope="module")
def ticket_db(running_stack: Settings) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(running_stack.database)
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


@pytest.fixture(scope="module")
def agent(running_stack: Settings, ticket_db: sessionmaker[Session]) -> Iterator[httpx.Client]:
    """An agent signed in to the API (the account made as `helpdesk agent add` makes it)."""
    with session_scope(ticket_db) as session:
        if agent_by_email(session, email="anna@example.com") is None:
            create_agent(session, email="anna@example.com", name="Anna Berg", password=PASSWORD)
    base = f"http://{running_stack.host}:{running_stack.api_port}"
    with httpx.Client(base_url=base, timeout=30) as client:
        response = client.post(
            "/api/auth/token", json={"email": "anna@example.com", "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        yield client
