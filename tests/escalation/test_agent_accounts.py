"""Agent accounts as OWASP ASVS L1 asks: valid addresses, a name for customers, passwords
that are not patterns, sign-in paused after repeated failures, disable and password change
that end every session. On SQLite and PostgreSQL, through the API and the CLI."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from core.settings import get_settings
from escalation.auth import (
    FREE_FAILURES,
    IDLE_TIMEOUT,
    TOKEN_LIFETIME,
    agent_by_email,
    create_agent,
    disable_agent,
    issue_stream_ticket,
    redeem_stream_ticket,
    set_password,
)
from escalation.db import session_scope
from escalation.errors import AccountError
from escalation.models import AgentToken, Role, StreamTicket, utc_now
from helpdesk import cli

PASSWORD = "a long secret phrase"


def sign_in(client: TestClient, password: str = PASSWORD) -> int:
    body = {"email": "carol.smith@example.com", "password": password}
    return client.post("/api/auth/token", json=body).status_code


def signed_in_carol(client: TestClient, sessions: sessionmaker[Session]) -> dict[str, str]:
    """A new agent Carol, signed in: the headers her requests carry."""
    with session_scope(sessions) as session:
        create_agent(session, email="carol.smith@example.com", name="Carol", password=PASSWORD)
    body = {"email": "carol.smith@example.com", "password": PASSWORD}
    token = client.post("/api/auth/token", json=body).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("email", "name", "password", "complaint"),
    [
        ("notanemail", "Carol", PASSWORD, "not an email address"),
        ("x1@example.com", "", PASSWORD, "give the name customers see"),
        ("carol@example.com", "Carol", "short one", "at least 12"),
        ("carol@example.com", "Carol", "abababababab", "pattern"),
        ("carol@example.com", "Carol", "carol-is-my-name", "own name"),
        ("carol@example.com", "Carol", "MyPassword2026", "common word"),
        ("carol@example.com", "Carol", "qwertyuiop123", "too easy to guess: .*common password"),
        ("carol@example.com", "Carol", "1234567890ab", "too easy to guess"),
    ],
)
def test_an_account_needs_an_address_a_name_and_a_real_password(
    sessions: sessionmaker[Session], email: str, name: str, password: str, complaint: str
) -> None:
    with session_scope(sessions) as session, pytest.raises(AccountError, match=complaint):
        create_agent(session, email=email, name=name, password=password)


def test_customers_meet_a_first_name_never_an_address(sessions: sessionmaker[Session]) -> None:
    with session_scope(sessions) as session:
        agent = create_agent(session, email=" Carol.Smith@Example.com ", name="", password=PASSWORD)
        assert (agent.email, agent.name) == ("carol.smith@example.com", "Carol")


def test_repeated_wrong_passwords_pause_sign_in_and_the_pause_ends(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as session:
        create_agent(session, email="carol.smith@example.com", name="Carol", password=PASSWORD)
    assert [sign_in(client, "wrong guess " + str(n)) for n in range(FREE_FAILURES)] == [401] * 5
    locked = client.post(
        "/api/auth/token", json={"email": "carol.smith@example.com", "password": PASSWORD}
    )
    assert locked.status_code == 429  # even the right password waits
    assert 1 <= int(locked.headers["Retry-After"]) <= 30
    with session_scope(sessions) as session:
        agent = agent_by_email(session, email="carol.smith@example.com")
        assert agent is not None
        agent.locked_until = utc_now() - timedelta(seconds=1)  # the pause is over
    assert sign_in(client) == 200
    assert sign_in(client, "wrong again") == 401  # the count started over: no lock yet
    assert sign_in(client) == 200


def test_a_disabled_agent_or_a_new_password_ends_every_session(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    headers = signed_in_carol(client, sessions)
    assert client.get("/api/auth/me", headers=headers).status_code == 200
    with session_scope(sessions) as session:
        agent = agent_by_email(session, email="carol.smith@example.com")
        assert agent is not None
        set_password(session, agent=agent, password="another long secret")
    assert client.get("/api/auth/me", headers=headers).status_code == 401
    assert sign_in(client, "another long secret") == 200
    with session_scope(sessions) as session:
        agent = agent_by_email(session, email="carol.smith@example.com")
        assert agent is not None
        disable_agent(session, agent=agent)
    assert sign_in(client, "another long secret") == 401


def test_a_token_ends_after_idle_time_and_activity_never_stretches_it_past_its_lifetime(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    headers = signed_in_carol(client, sessions)

    def backdate(*, signed_in_ago: timedelta, idle_left: timedelta) -> None:
        with session_scope(sessions) as session:
            issued = session.scalars(select(AgentToken)).one()
            issued.created_at = utc_now() - signed_in_ago
            issued.expires_at = utc_now() + idle_left

    def deadline() -> timedelta:
        with sessions() as session:
            return session.scalars(select(AgentToken)).one().expires_at - utc_now()

    backdate(signed_in_ago=timedelta(hours=1), idle_left=timedelta(minutes=5))
    assert client.get("/api/auth/me", headers=headers).status_code == 200
    assert IDLE_TIMEOUT - timedelta(minutes=1) < deadline() <= IDLE_TIMEOUT  # activity moved it
    backdate(signed_in_ago=TOKEN_LIFETIME - timedelta(minutes=10), idle_left=timedelta(minutes=5))
    assert client.get("/api/auth/me", headers=headers).status_code == 200
    assert deadline() <= timedelta(minutes=10)  # never past the lifetime
    backdate(signed_in_ago=timedelta(hours=1), idle_left=-timedelta(seconds=1))
    assert client.get("/api/auth/me", headers=headers).status_code == 401


def test_the_event_stream_opens_with_a_one_use_pass_never_with_the_token(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    headers = signed_in_carol(client, sessions)
    token = headers["Authorization"].removeprefix("Bearer ")
    assert client.post("/api/events/ticket").status_code == 401
    assert client.get("/api/events", params={"ticket": token}).status_code == 401
    assert client.get("/api/events", params={"token": token}).status_code == 422
    response = client.post("/api/events/ticket", headers=headers)
    assert response.status_code == 201 and response.json()["expires_in"] == 30
    ticket = response.json()["ticket"]
    assert token not in ticket
    with session_scope(sessions) as session:
        token_id = session.scalars(select(AgentToken.id)).one()
        assert redeem_stream_ticket(session, ticket=ticket) == token_id
        assert redeem_stream_ticket(session, ticket=ticket) is None  # one use
        late = issue_stream_ticket(session, token=token)
        session.execute(update(StreamTicket).values(expires_at=utc_now()))
        assert redeem_stream_ticket(session, ticket=late) is None
        unused = issue_stream_ticket(session, token=token)
        agent = agent_by_email(session, email="carol.smith@example.com")
        assert agent is not None
        disable_agent(session, agent=agent)
        assert redeem_stream_ticket(session, ticket=unused) is None


def test_the_cli_adds_renames_and_disables_agents_from_a_script(
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HELPDESK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HELPDESK_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        monkeypatch.setattr("sys.stdin", _lines(PASSWORD))
        assert cli.main(["agent", "add", "carol.smith@example.com", "--password-stdin"]) == 0
        assert "customers see them as Carol" in capsys.readouterr().out
        monkeypatch.setattr("sys.stdin", _lines("short"))
        assert cli.main(["agent", "password", "carol.smith@example.com", "--password-stdin"]) == 1
        assert "at least 12" in capsys.readouterr().err
        assert cli.main(["agent", "disable", "carol.smith@example.com"]) == 0
        assert cli.main(["agent", "disable", "nobody@example.com"]) == 1
        assert "no agent with email nobody@example.com" in capsys.readouterr().err
        monkeypatch.setattr("sys.stdin", _lines(PASSWORD))
        assert cli.main(["agent", "add", "notanemail", "--password-stdin"]) == 1
        assert "not an email address" in capsys.readouterr().err
        monkeypatch.setattr("sys.stdin", _lines(PASSWORD))
        assert cli.main(["agent", "add", "ada@example.com", "--password-stdin", "--admin"]) == 0
        assert capsys.readouterr().out.startswith("admin #")
        assert cli.main(["agent", "role", "ada@example.com", "--agent"]) == 0
        assert "ada@example.com is now agent" in capsys.readouterr().out
    finally:
        get_settings.cache_clear()


def _lines(*lines: str) -> object:
    import io

    return io.StringIO("".join(f"{line}\n" for line in lines))


def signed_in(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/api/auth/token", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_only_an_admin_manages_agents_and_customers_data(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as session:
        create_agent(
            session, email="ada@example.com", name="Ada", password=PASSWORD, role=Role.ADMIN
        )
    carol = signed_in_carol(client, sessions)
    ada = signed_in(client, "ada@example.com")
    new = {"email": "dan@example.com", "name": "Dan", "password": "rivers run to the sea"}
    for method, path, body in [
        ("GET", "/api/agents", None),
        ("POST", "/api/agents", new),
        ("POST", "/api/agents/1/disable", None),
        ("PUT", "/api/agents/1/password", {"password": "rivers run to the sea"}),
        ("GET", "/api/customers/someone/export", None),
        ("DELETE", "/api/customers/someone", None),
    ]:
        assert client.request(method, path, json=body, headers=carol).status_code == 403, path
    assert client.get("/api/auth/me", headers=ada).json()["role"] == "admin"

    made = client.post("/api/agents", json=new, headers=ada)
    assert made.status_code == 201 and made.json()["role"] == "agent"
    weak = client.post(
        "/api/agents",
        json={**new, "email": "eve@example.com", "password": "qwertyuiop123"},
        headers=ada,
    )
    assert weak.status_code == 409 and "too easy to guess" in weak.json()["detail"]
    dan = signed_in(client, "dan@example.com", "rivers run to the sea")
    reset = client.put(
        f"/api/agents/{made.json()['id']}/password",
        json={"password": "stars over the hill"},
        headers=ada,
    )
    assert reset.status_code == 204
    assert client.get("/api/auth/me", headers=dan).status_code == 401  # signed out
    own_id = client.get("/api/auth/me", headers=ada).json()["id"]
    assert client.post(f"/api/agents/{own_id}/disable", headers=ada).status_code == 409
    disabled = client.post(f"/api/agents/{made.json()['id']}/disable", headers=ada)
    assert disabled.status_code == 200 and disabled.json()["disabled_at"]
    assert sign_in_as(client, "dan@example.com", "stars over the hill") == 401
    exported = client.get("/api/customers/nobody/export", headers=ada)
    assert exported.status_code == 200 and exported.json()["tickets"] == []
    assert client.delete("/api/customers/nobody", headers=ada).json()["tickets"] == 0


def test_an_agent_changes_their_own_password_only_with_the_current_one(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    headers = signed_in_carol(client, sessions)
    wrong = {"current_password": "not my password", "new_password": "rivers run to the sea"}
    assert client.put("/api/auth/password", json=wrong, headers=headers).status_code == 409
    right = {"current_password": PASSWORD, "new_password": "rivers run to the sea"}
    assert client.put("/api/auth/password", json=right, headers=headers).status_code == 204
    assert client.get("/api/auth/me", headers=headers).status_code == 401  # every session ends
    assert sign_in_as(client, "carol.smith@example.com", "rivers run to the sea") == 200


def sign_in_as(client: TestClient, email: str, password: str) -> int:
    return client.post("/api/auth/token", json={"email": email, "password": password}).status_code
