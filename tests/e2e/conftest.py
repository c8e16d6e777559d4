"""Fixtures of the end-to-end tests: the running stack's ticket database and a signed-in agent."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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


@contextmanager
def signed_in_agent(
    stack: Settings, tickets: sessionmaker[Session], email: str, name: str
) -> Iterator[httpx.Client]:
    """A client of the stack's API signed in as this agent (made as `helpdesk agent add`
    makes one, unless it exists)."""
    with session_scope(tickets) as session:
        if agent_by_email(session, email=email) is None:
            create_agent(session, email=email, name=name, password=PASSWORD)
    base = f"http://{stack.host}:{stack.api_port}"
    with httpx.Client(base_url=base, timeout=30) as client:
        response = client.post("/api/auth/token", json={"email": email, "password": PASSWORD})
        assert response.status_code == 200, response.text
        client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        yield client


@pytest.fixture(scope="module")
def agent(running_stack: Settings, ticket_db: sessionmaker[Session]) -> Iterator[httpx.Client]:
    """An agent signed in to the API."""
    with signed_in_agent(running_stack, ticket_db, "anna@example.com", "Anna Berg") as client:
        yield client
