"""The agent API over HTTP (FastAPI's test client) on a real SQLite database.

Rasa is not running here: deliveries stay queued, which is what the tests look at.
The whole story through the real Rasa server is in tests/e2e/test_handoff.py.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.limits import MAX_MESSAGE_CHARS
from core.settings import get_settings
from escalation import outbox, outcomes, ratings, tickets
from escalation.api.deps import get_sla_policy
from escalation.auth import create_agent
from escalation.canned import CannedRepliesError, load_canned_replies
from escalation.db import session_scope
from escalation.models import (
    Agent,
    Author,
    Delivery,
    DeliveryKind,
    OutcomeKind,
    Priority,
    Ticket,
)
from escalation.sla import Deadlines
from escalation.tickets import Escalation, TranscriptLine, create_ticket_once
from helpdesk.supervisor import free_port
from tests.conftest import sla_file

PASSWORD = "correct horse battery"
START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture
def client(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    monkeypatch.setenv("HELPDESK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HELPDESK_DATABASE_URL", database_url)
    monkeypatch.setenv("HELPDESK_RASA_PORT", str(free_port()))  # nothing listens there
    monkeypatch.setenv("HELPDESK_SLA_PATH", str(sla_file(tmp_path / "sla.yml")))  # always open
    get_settings.cache_clear()
    from escalation.api.main import app

    with TestClient(app) as test_client:
        yield test_client
    get_settings.cache_clear()


@pytest.fixture
def agent_ids(sessions: sessionmaker[Session]) -> dict[str, int]:
    with session_scope(sessions) as session:
        anna = create_agent(session, email="anna@example.com", name="Anna Berg", password=PASSWORD)
        ben = create_agent(session, email="ben@example.com", name="Ben", password=PASSWORD)
        return {"anna": anna.id, "ben": ben.id}


def sign_in(client: TestClient, email: str = "anna@example.com") -> dict[str, str]:
    response = client.post("/api/auth/token", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def make_ticket(
    sessions: sessionmaker[Session],
    key: str,
    *,
    language: str = "nl",
    priority: Priority = Priority.NORMAL,
    text: str = "waar blijft mijn geld?",
    conversation_id: str | None = None,
    written_at: datetime = START,
    first_response_due_at: datetime | None = None,
) -> int:
    escalation = Escalation(
        key=key,
        conversation_id=conversation_id or f"conv-{key}",
        channel="twilio" if conversation_id else "socketio",
        language=language,
        language_confidence=0.9,
        reason="customer_request",
        priority=priority,
        tried_entries=[{"question": text, "answered_with": None, "hits": []}],
        transcript=[TranscriptLine(Author.CUSTOMER, text, written_at)],
        deadlines=deadlines_from(first_response_due_at) if first_response_due_at else None,
    )
    with session_scope(sessions) as session:
        ticket, _ = create_ticket_once(session, escalation=escalation)
        session.flush()
        return ticket.id


def deadlines_from(first_response_due_at: datetime) -> Deadlines:
    """Due soon 10 minutes before; resolution a day after the first response."""
    return Deadlines(
        first_response_due_at=first_response_due_at,
        resolution_due_at=first_response_due_at + timedelta(days=1),
        first_response_warn_at=first_response_due_at - timedelta(minutes=10),
        resolution_warn_at=first_response_due_at + timedelta(hours=20),
    )


def deliveries(sessions: sessionmaker[Session], ticket_id: int) -> list[DeliveryKind]:
    with session_scope(sessions) as session:
        rows = session.scalars(
            select(Delivery).where(Delivery.ticket_id == ticket_id).order_by(Delivery.id)
        )
        return [row.kind for row in rows]


AGENT_ROUTES = [
    ("get", "/api/auth/me", None),
    ("get", "/api/tickets", None),
    ("get", "/api/tickets/1", None),
    ("post", "/api/tickets/1/replies", {"text": "hi"}),
    ("post", "/api/tickets/1/notes", {"text": "hi"}),
    ("post", "/api/tickets/1/assign", {"agent_id": 1}),
    ("post", "/api/tickets/1/status", {"status": "resolved"}),
]


@pytest.mark.parametrize(("method", "path", "body"), AGENT_ROUTES)
@pytest.mark.parametrize("token", [None, "not-a-real-token"])
def test_agent_routes_answer_401_and_no_data_without_a_valid_token(
    client: TestClient,
    sessions: sessionmaker[Session],
    method: str,
    path: str,
    body: dict[str, object] | None,
    token: str | None,
) -> None:
    make_ticket(sessions, "secret", text="my address is 1 Secret Lane")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.request(method, path, json=body, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "Secret Lane" not in response.text
    assert deliveries(sessions, 1) == []


def test_wrong_password_gets_401(client: TestClient, agent_ids: dict[str, int]) -> None:
    response = client.post(
        "/api/auth/token", json={"email": "anna@example.com", "password": "wrong password"}
    )
    assert response.status_code == 401


def test_passwords_are_stored_hashed(
    sessions: sessionmaker[Session], agent_ids: dict[str, int]
) -> None:
    from escalation.models import Agent

    with session_scope(sessions) as session:
        stored = session.get(Agent, agent_ids["anna"])
        assert stored is not None
        assert PASSWORD not in stored.password_hash
        assert stored.password_hash.startswith("$argon2id$")


def legacy_scrypt_hash(password: str) -> str:
    """A hash as versions before Argon2 stored it: scrypt$N$r$p$salt$digest."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    return f"scrypt$16384$8$1${b64(salt)}${b64(digest)}"


def test_an_old_scrypt_password_still_signs_in_and_is_rehashed_with_argon2(
    client: TestClient, sessions: sessionmaker[Session], agent_ids: dict[str, int]
) -> None:
    from escalation.models import Agent

    with session_scope(sessions) as session:
        agent = session.get(Agent, agent_ids["anna"])
        assert agent is not None
        agent.password_hash = legacy_scrypt_hash(PASSWORD)
    wrong = client.post("/api/auth/token", json={"email": "anna@example.com", "password": "nope"})
    assert wrong.status_code == 401
    sign_in(client)
    with session_scope(sessions) as session:
        agent = session.get(Agent, agent_ids["anna"])
        assert agent is not None and agent.password_hash.startswith("$argon2id$")
    sign_in(client)  # and the new hash verifies


def test_sign_out_revokes_the_token(client: TestClient, agent_ids: dict[str, int]) -> None:
    headers = sign_in(client)
    assert client.get("/api/auth/me", headers=headers).json()["name"] == "Anna Berg"
    assert client.post("/api/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/auth/me", headers=headers).status_code == 401


def test_queue_filters_by_status_language_and_priority(
    client: TestClient, sessions: sessionmaker[Session], agent_ids: dict[str, int]
) -> None:
    dutch = make_ticket(sessions, "a", language="nl")
    urgent = make_ticket(sessions, "b", language="de", priority=Priority.URGENT)
    headers = sign_in(client)

    def ids(**params: str) -> list[int]:
        response = client.get("/api/tickets", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [ticket["id"] for ticket in response.json()]

    assert ids() == [dutch, urgent]  # longest waiting first
    assert ids(language="de") == [urgent]
    assert ids(priority="urgent") == [urgent]
    assert ids(status="waiting_for_agent") == [dutch, urgent]
    assert ids(status="resolved") == []
    assert (
        client.get("/api/tickets", params={"status": "bogus"}, headers=headers).status_code == 422
    )


def test_ticket_shows_its_transcript_with_customer_text_as_plain_text(
    client: TestClient, sessions: sessionmaker[Session], agent_ids: dict[str, int]
) -> None:
    hostile = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    ticket_id = make_ticket(sessions, "x", text=hostile)
    response = client.get(f"/api/tickets/{ticket_id}", headers=sign_in(client))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    ticket = response.json()
    assert ticket["messages"][0] == {
        "id": ticket["messages"][0]["id"],
        "author": "customer",
        "text": hostile,  # stored and returned as text; the console inserts it as text
        "sent_at": ticket["messages"][0]["sent_at"],
        "agent": None,
        "delivery": None,
    }
    assert ticket["tried_entries"][0]["question"] == hostile
    assert ticket["language"] == "nl" and ticket["reason"] == "customer_request"


def test_first_reply_picks_the_ticket_up_and_queues_both_messages(
    client: TestClient, sessions: sessionmaker[Session], agent_ids: dict[str, int]
) -> None:
    ticket_id = make_ticket(sessions, "r")
    headers = sign_in(client)
    response = client.post(
        f"/api/tickets/{ticket_id}/replies",
        json={"text": "  Hallo, ik kijk mee.  "},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["text"] == "Hallo, ik kijk mee."
    assert response.json()["agent"]["name"] == "Anna Berg"
    ticket = client.get(f"/api/tickets/{ticket_id}", headers=headers).json()
    assert ticket["status"] == "open"
    assert ticket["assignee"]["id"] == agent_ids["anna"]
    assert ticket["first_agent_response_at"] is not None
    assert deliveries(sessions, ticket_id) == [DeliveryKind.PICKED_UP, DeliveryKind.AGENT_REPLY]

    client.post(f"/api/tickets/{ticket_id}/replies", json={"text": "Nog iets?"}, headers=headers)
    later = client.get(f"/api/tickets/{ticket_id}", headers=headers).json()
    assert later["first_agent_response_at"] == ticket["first_agent_response_at"]
    assert deliveries(sessions, ticket_id)[-1] == DeliveryKind.AGENT_REPLY


def test_the_queue_puts_the_first_target_due_on_top_and_says_where_each_stands(
    client: TestClient, sessions: sessionmaker[Session], agent_ids: dict[str, int]
) -> None:
    now = datetime.now(UTC)
    later = make_ticket(sessions, "later", first_response_due_at=now + timedelta(days=30))
    overdue = make_ticket(sessions, "overdue", first_response_due_at=now - timedelta(hours=1))
    untimed = make_ticket(sessions, "untimed")  # from before service levels
    headers = sign_in(client)
    queue = client.get("/api/tickets", headers=headers).json()
    assert [t["id"] for t in queue] == [overdue, later, untimed]
    clocks = {t["id"]: t["sla"] for t in queue}
    assert clocks[overdue]["target"] == "first_response"
    assert clocks[overdue]["state"] == "breached"
    assert clocks[later]["state"] == "ok"
    assert clocks[untimed] is None

    client.post(f"/api/tickets/{overdue}/replies", json={"text": "Hier."}, headers=headers)
    answered = client.get(f"/api/tickets/{overdue}", headers=headers).json()
    assert answered["sla"]["target"] == "resolution"  # the next target, a day later
    requeued = client.get("/api/tickets", headers=headers).json()
    assert [t["id"] for t in requeued] == [overdue, later, untimed]


def test_a_reply_shows_whether_it_reached_the_customer_and_why_not(
    client: TestClient, sessions: sessionmaker[Session], agent_ids: dict[str, int]
) -> None:
    ticket_id = make_ticket(sessions, "undelivered")
    headers = sign_in(client)
    client.post(f"/api/tickets/{ticket_id}/replies", json={"text": "Kijk ik na."}, headers=headers)
    [message] = reply_messages(client, ticket_id, headers)
    assert message["delivery"] == {"delivered_at": None, "attempts": 0, "last_error": None}

    with session_scope(sessions) as session:
        delivery_id = session.scalars(
            select(Delivery.id).where(Delivery.message_id == message["id"])
        ).one()
    outbox.record_failure(sessions, delivery_id=delivery_id, error="Telegram: HTTP 503")
    [message] = reply_messages(client, ticket_id, headers)
    assert message["delivery"]["attempts"] == 1
    assert message["delivery"]["last_error"] == "Telegram: HTTP 503"

    outbox.delivered(sessions, delivery_id=delivery_id)
    [message] = reply_messages(client, ticket_id, headers)
    assert message["delivery"]["delivered_at"] is not None


def test_whatsapp_reply_after_its_24_hour_window_is_refused_with_the_reason(
    client: TestClient, sessions: sessionmaker[Session], agent_ids: dict[str, int]
) -> None:
    headers = sign_in(client)
    now = datetime.now(UTC)
    stale = make_ticket(
        sessions, "wa-old", conversation_id="whatsapp:+31611", written_at=now - timedelta(hours=25)
    )
    response = client.post(f"/api/tickets/{stale}/replies", json={"text": "Hi"}, headers=headers)
    assert response.status_code == 409
    assert "24 hours" in response.json()["detail"]
    assert deliveries(sessions, stale) == []

    fresh = make_ticket(
        sessions, "wa-new", conversation_id="whatsapp:+31612", written_at=now - timedelta(hours=2)
    )
    response = client.post(f"/api/tickets/{fresh}/replies", json={"text": "Hi"}, headers=headers)
    assert response.status_code == 201


def reply_messages(
    client: TestClient, ticket_id: int, headers: dict[str, str]
) -> list[dict[str, Any]]:
    ticket = client.get(f"/api/tickets/{ticket_id}", headers=headers).json()
    return [m for m in ticket["messages"] if m["author"] == "agent"]


def test_internal_notes_are_kept_but_never_delivered(
    client: TestClient, sessions: sessionmaker[Session], agent_ids: dict[str, int]
) -> None:
    ticket_id = make_ticket(sessions, "n")
    headers = sign_in(client)
    response = client.post(
        f"/api/tickets/{ticket_id}/notes", json={"text": "VIP customer"}, headers=headers
    )
    assert response.status_code == 201
    ticket = client.get(f"/api/tickets/{ticket_id}", headers=headers).json()
    assert [m["author"] for m in ticket["messages"]] == ["customer", "system", "note"]
    assert ticket["status"] == "waiting_for_agent"
    assert deliveries(sessions, ticket_id) == []


def test_assigning_to_another_agent_opens_the_ticket(
    client: TestClient, sessions: sessionmaker[Session], agent_ids: dict[str, int]
) -> None:
    ticket_id = make_ticket(sessions, "as")
    headers = sign_in(client)
    response = client.post(
        f"/api/tickets/{ticket_id}/assign", json={"agent_id": agent_ids["ben"]}, headers=headers
    )
    assert response.status_code == 200
    assert response.json()["assignee"]["name"] == "Ben"
    assert response.json()["status"] == "open"
    mine = client.get(
        "/api/tickets", params={"mine": "true"}, headers=sign_in(client, "ben@example.com")
    )
    assert [t["id"] for t in mine.json()] == [ticket_id]
    missing = client.post(
        f"/api/tickets/{ticket_id}/assign", json={"agent_id": 999}, headers=headers
    )
    assert missing.status_code == 404


def test_resolving_records_the_time_and_queues_the_hand_back(
    client: TestClient, sessions: sessionmaker[Session], agent_ids: dict[str, int]
) -> None:
    ticket_id = make_ticket(sessions, "res")
    headers = sign_in(client)
    response = client.post(
        f"/api/tickets/{ticket_id}/status", json={"status": "resolved"}, headers=headers
    )
    assert response.status_code == 200
    assert response.json()["status"] == "resolved"
    assert response.json()["resolved_at"] is not None
    assert deliveries(sessions, ticket_id) == [DeliveryKind.RESOLVED]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("replies", {"text": "too late"}),
        ("status", {"status": "pending_customer"}),
        ("assign", {"agent_id": 1}),
        ("priority", {"priority": "urgent"}),
    ],
)
def test_changes_a_resolved_ticket_cannot_take_get_409(
    client: TestClient,
    sessions: sessionmaker[Session],
    agent_ids: dict[str, int],
    path: str,
    body: dict[str, object],
) -> None:
    ticket_id = make_ticket(sessions, "c")
    headers = sign_in(client)
    client.post(f"/api/tickets/{ticket_id}/status", json={"status": "resolved"}, headers=headers)
    response = client.post(f"/api/tickets/{ticket_id}/{path}", json=body, headers=headers)
    assert response.status_code == 409
    assert "resolved" in response.json()["detail"]
    assert deliveries(sessions, ticket_id) == [DeliveryKind.RESOLVED]


def test_a_resolved_ticket_reopens_once_its_conversation_has_no_other(
    client: TestClient, sessions: sessionmaker[Session], agent_ids: dict[str, int]
) -> None:
    """Reopening gives the conversation back to the agents, tells the customer, and runs the
    resolution clock again; not while a newer ticket owns the conversation."""
    first = make_ticket(sessions, "r1", conversation_id="telegram:77")
    headers = sign_in(client)
    client.post(f"/api/tickets/{first}/replies", json={"text": "Done."}, headers=headers)
    client.post(f"/api/tickets/{first}/status", json={"status": "resolved"}, headers=headers)
    second = make_ticket(sessions, "r2", conversation_id="telegram:77")
    refused = client.post(f"/api/tickets/{first}/status", json={"status": "open"}, headers=headers)
    assert refused.status_code == 409
    assert f"#{second}" in refused.json()["detail"]
    client.post(f"/api/tickets/{second}/status", json={"status": "resolved"}, headers=headers)

    reopened = client.post(f"/api/tickets/{first}/status", json={"status": "open"}, headers=headers)
    assert reopened.status_code == 200
    body = reopened.json()
    assert body["status"] == "open" and body["resolved_at"] is None
    assert datetime.fromisoformat(body["resolution_due_at"]) > datetime.now(UTC)
    assert deliveries(sessions, first)[-1] == DeliveryKind.REOPENED
    detail = client.get(f"/api/tickets/{first}", headers=headers).json()
    assert [m["text"] for m in detail["messages"] if m["author"] == "system"][-1].startswith(
        "Reopened by"
    )


def test_waiting_on_the_customer_stops_the_clock_and_their_answer_restarts_it(
    client: TestClient, sessions: sessionmaker[Session], agent_ids: dict[str, int]
) -> None:
    due = datetime.now(UTC) + timedelta(hours=2)
    ticket_id = make_ticket(sessions, "pause", first_response_due_at=due)
    headers = sign_in(client)
    client.post(f"/api/tickets/{ticket_id}/replies", json={"text": "Which size?"}, headers=headers)
    client.post(
        f"/api/tickets/{ticket_id}/status", json={"status": "pending_customer"}, headers=headers
    )
    paused = client.get(f"/api/tickets/{ticket_id}", headers=headers).json()
    assert paused["sla"] == {"target": "resolution", "due_at": paused["resolution_due_at"],
                             "state": "paused"}  # fmt: skip
    with session_scope(sessions) as session:
        ticket = tickets.get_ticket(session, ticket_id=ticket_id)
        ticket.paused_at = datetime.now(UTC) - timedelta(hours=3)  # three hours ago
        before = ticket.resolution_due_at
        assert before is not None
        counts = tickets.sla_counts(session, now=before + timedelta(hours=1))
        assert counts["breached"]["resolution"] == 0  # a stopped clock breaches nothing
        tickets.append_customer_message(
            session,
            ticket=ticket,
            text="Size 42, please.",
            sent_at=datetime.now(UTC),
            source_key="m-42",
            sla=get_sla_policy(get_settings()),
        )
        assert ticket.status.value == "open" and ticket.paused_at is None
        moved = ticket.resolution_due_at - before
        assert timedelta(hours=3) <= moved < timedelta(hours=3, minutes=1)  # open all day


def test_a_new_priority_brings_its_own_due_times_and_a_history_line(
    client: TestClient, sessions: sessionmaker[Session], agent_ids: dict[str, int]
) -> None:
    ticket_id = make_ticket(sessions, "p", first_response_due_at=START + timedelta(hours=4))
    headers = sign_in(client)
    response = client.post(
        f"/api/tickets/{ticket_id}/priority", json={"priority": "urgent"}, headers=headers
    )
    assert response.status_code == 200
    body = response.json()
    assert body["priority"] == "urgent"
    escalated = datetime.fromisoformat(body["escalated_at"])
    first_due = datetime.fromisoformat(body["first_response_due_at"])
    assert first_due - escalated == timedelta(minutes=30)  # the always-open test policy
    warn = datetime.fromisoformat(body["first_response_warn_at"])
    assert warn - escalated == timedelta(minutes=24)  # 80 %
    bad = client.post(
        f"/api/tickets/{ticket_id}/priority", json={"priority": "asap"}, headers=headers
    )
    assert bad.status_code == 422
    detail = client.get(f"/api/tickets/{ticket_id}", headers=headers).json()
    history = [m["text"] for m in detail["messages"] if m["author"] == "system"]
    assert history[-1] == "Priority normal → urgent by Anna Berg"


@pytest.mark.parametrize(
    "body",
    [{"text": ""}, {"text": "   "}, {"text": "x" * (MAX_MESSAGE_CHARS + 1)}, {}, {"text": None}],
)
def test_bad_replies_get_422_and_change_nothing(
    client: TestClient,
    sessions: sessionmaker[Session],
    agent_ids: dict[str, int],
    body: dict[str, object],
) -> None:
    ticket_id = make_ticket(sessions, "bad")
    response = client.post(f"/api/tickets/{ticket_id}/replies", json=body, headers=sign_in(client))
    assert response.status_code == 422
    assert deliveries(sessions, ticket_id) == []


def test_unknown_ticket_is_404(client: TestClient, agent_ids: dict[str, int]) -> None:
    headers = sign_in(client)
    assert client.get("/api/tickets/4242", headers=headers).status_code == 404
    reply = client.post("/api/tickets/4242/replies", json={"text": "hi"}, headers=headers)
    assert reply.status_code == 404


@pytest.mark.parametrize("ticket_id", ["0", "-1", "abc", "99999999999999999999"])
def test_ids_outside_the_database_range_get_422_not_500(
    client: TestClient, agent_ids: dict[str, int], ticket_id: str
) -> None:
    headers = sign_in(client)
    assert client.get(f"/api/tickets/{ticket_id}", headers=headers).status_code == 422
    too_big = client.post("/api/tickets/1/assign", json={"agent_id": 2**40}, headers=headers)
    assert too_big.status_code == 422


def test_customer_message_poll_says_503_when_the_bot_is_down(client: TestClient) -> None:
    conversation_id = client.post("/api/conversations").json()["conversation_id"]
    response = client.get(f"/api/conversations/{conversation_id}/messages")
    assert response.status_code == 503
    assert "retry" in response.json()["detail"]


def test_only_a_signed_conversation_id_reads_a_conversation(client: TestClient) -> None:
    """A client cannot pick an id ("me") nor forge one from another customer's."""
    issued = client.post("/api/conversations")
    assert issued.status_code == 201
    conversation_id = issued.json()["conversation_id"]
    key, _, signature = conversation_id.rpartition(".")
    assert len(key) >= 20 and signature
    forged = f"{key[:-1]}{'A' if key[-1] != 'A' else 'B'}.{signature}"
    for guess in ("me", "someone", key, forged, f"{key}.{signature[::-1]}"):
        response = client.get(f"/api/conversations/{guess}/messages")
        assert response.status_code == 403, guess
    assert client.post("/api/conversations").json()["conversation_id"] != conversation_id


def test_customer_and_sign_in_routes_are_rate_limited_with_retry_after(
    client: TestClient, agent_ids: dict[str, int]
) -> None:
    answers = [client.post("/api/conversations").status_code for _ in range(31)]
    assert answers[:30] == [201] * 30 and answers[30] == 429
    limited = client.post("/api/conversations")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert "Too many requests" in limited.json()["detail"]
    body = {"email": "nobody@example.com", "password": "not the password"}
    sign_ins = [client.post("/api/auth/token", json=body).status_code for _ in range(21)]
    assert sign_ins[:20] == [401] * 20 and sign_ins[20] == 429


def test_openapi_documents_the_agent_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for route in ["/api/tickets", "/api/tickets/{ticket_id}/replies", "/api/auth/token"]:
        assert route in paths


def test_the_transcript_tells_what_happened_and_the_queue_shows_the_latest_question(
    client: TestClient, sessions: sessionmaker[Session], agent_ids: dict[str, int]
) -> None:
    ticket_id = make_ticket(sessions, "story", text="where is my refund?\n  it's been weeks")
    headers = sign_in(client)
    [row] = [t for t in client.get("/api/tickets", headers=headers).json() if t["id"] == ticket_id]
    assert row["preview"] == "where is my refund? it's been weeks"
    with session_scope(sessions) as session:
        ticket = session.get_one(Ticket, ticket_id)
        tickets.append_customer_message(
            session, ticket=ticket, text="hello??", sent_at=START, source_key="m-9"
        )
    client.post(
        f"/api/tickets/{ticket_id}/assign", json={"agent_id": agent_ids["anna"]}, headers=headers
    )
    client.post(f"/api/tickets/{ticket_id}/status", json={"status": "resolved"}, headers=headers)
    with session_scope(sessions) as session:
        assert ratings.record_csat(
            session, ticket_id=ticket_id, conversation_id="conv-story", rating=4
        )
    ticket = client.get(f"/api/tickets/{ticket_id}", headers=headers).json()
    assert [(m["author"], m["text"]) for m in ticket["messages"]][1:] == [
        ("system", "Handed to a person (customer request)"),
        ("customer", "hello??"),
        ("system", "Picked up by Anna Berg"),
        ("system", "Resolved by Anna Berg"),
        ("system", "Customer rated the help 4/5"),
    ]
    assert ticket["preview"] == "hello??"


def test_a_rejected_request_never_echoes_what_was_sent(client: TestClient) -> None:
    secret = "hunter2-my-real-password"
    response = client.post("/api/auth/token", json={"email": 12345, "password": secret})
    assert response.status_code == 422
    assert secret not in response.text
    assert response.json()["detail"][0]["loc"] == ["body", "email"]


@pytest.mark.parametrize("offset", [str(2**63), str(2**31)])
def test_a_huge_queue_offset_is_a_422_not_a_database_error(
    client: TestClient, agent_ids: dict[str, int], offset: str
) -> None:
    response = client.get("/api/tickets", params={"offset": offset}, headers=sign_in(client))
    assert response.status_code == 422


def test_the_console_and_api_forbid_framing_and_foreign_scripts(client: TestClient) -> None:
    for path in ("/console", "/api/tickets", "/health"):
        headers = client.get(path).headers
        assert "script-src 'self'" in headers["content-security-policy"], path
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
    widget = client.get("/widget/widget.js").headers  # embedded in other sites' pages
    assert "content-security-policy" not in widget and "x-frame-options" not in widget
    assert widget["x-content-type-options"] == "nosniff"


def test_metrics_parse_as_prometheus_text_and_move_when_a_ticket_is_made(
    client: TestClient, sessions: sessionmaker[Session], agent_ids: dict[str, int]
) -> None:
    def samples() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        response = client.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples
        }

    waiting = (
        "helpdesk_tickets",
        (("priority", "urgent"), ("status", "waiting_for_agent"), ("team", "")),
    )
    before = samples().get(waiting, 0.0)
    make_ticket(
        sessions, "metrics", priority=Priority.URGENT, first_response_due_at=datetime.now(UTC)
    )
    client.get("/api/tickets", headers=sign_in(client))
    after = samples()
    assert after[waiting] == before + 1
    assert after[("helpdesk_sla_breached_tickets", (("target", "first_response"),))] >= 1
    assert after[("helpdesk_delivery_queue_depth", ())] >= 0
    answered = ("helpdesk_faq_decisions_last_24h", (("decision", "answered"), ("language", "el")))
    assert answered not in after
    outcomes.record_decision(
        sessions,
        outcomes.Decision(
            turn_key="conv:1",
            conversation_id="conv",
            channel="socketio",
            language="el",
            kind=OutcomeKind.ANSWERED,
            entry_id="reset-password",
            score=0.91,
            question="ξέχασα τον κωδικό",
            occurred_at=datetime.now(UTC),
        ),
    )
    assert samples()[answered] == 1
    route = ("method", "GET"), ("route", "/api/tickets"), ("status", "200")
    assert after[("helpdesk_api_request_seconds_count", tuple(sorted(route)))] >= 1


def test_an_agent_goes_away_and_online_again(
    client: TestClient, sessions: sessionmaker[Session], agent_ids: dict[str, int]
) -> None:
    headers = sign_in(client)
    assert client.get("/api/auth/me", headers=headers).json()["available"] is True
    away = client.put("/api/auth/me/availability", json={"available": False}, headers=headers)
    assert away.status_code == 200 and away.json()["available"] is False
    with session_scope(sessions) as session:
        assert session.get(Agent, agent_ids["anna"]).available is False  # type: ignore[union-attr]
    back = client.put("/api/auth/me/availability", json={"available": True}, headers=headers)
    assert back.json()["available"] is True
    assert client.put("/api/auth/me/availability", json={}, headers=headers).status_code == 422


def test_moving_a_ticket_to_someone_else_keeps_who_and_why_in_its_history(
    client: TestClient, sessions: sessionmaker[Session], agent_ids: dict[str, int]
) -> None:
    ticket_id = make_ticket(sessions, "moved")
    headers = sign_in(client)
    client.post(
        f"/api/tickets/{ticket_id}/assign", json={"agent_id": agent_ids["anna"]}, headers=headers
    )
    moved = client.post(
        f"/api/tickets/{ticket_id}/assign",
        json={"agent_id": agent_ids["ben"], "reason": "speaks Greek"},
        headers=headers,
    )
    assert moved.status_code == 200 and moved.json()["assignee"]["id"] == agent_ids["ben"]
    history = [
        m["text"]
        for m in client.get(f"/api/tickets/{ticket_id}", headers=headers).json()["messages"]
        if m["author"] == "system"
    ]
    assert "Moved from Anna Berg to Ben by Anna Berg: speaks Greek" in history


def test_canned_replies_come_in_the_ticket_s_language_with_its_number_and_my_name(
    client: TestClient, sessions: sessionmaker[Session], agent_ids: dict[str, int]
) -> None:
    dutch = make_ticket(sessions, "canned-nl")
    greek = make_ticket(sessions, "canned-el", language="el")
    italian = make_ticket(sessions, "canned-it", language="it")  # no Italian text: English
    headers = sign_in(client)

    def texts(ticket_id: int) -> dict[str, str]:
        response = client.get(f"/api/tickets/{ticket_id}/canned-replies", headers=headers)
        assert response.status_code == 200
        return {reply["title"]: reply["text"] for reply in response.json()}

    assert texts(dutch)["Looking into it"].startswith("Hoi, met Anna. ")
    assert f"#{dutch}" in texts(dutch)["Looking into it"]
    assert f"αίτημα #{greek}" in texts(greek)["Order number please"]
    assert texts(italian)["Looking into it"].startswith("Hi, Anna here.")
    assert client.get("/api/tickets/4242/canned-replies", headers=headers).status_code == 404
    assert client.get(f"/api/tickets/{dutch}/canned-replies").status_code == 401


def test_a_malformed_canned_reply_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "canned.yml"
    path.write_text(
        "replies:\n  - title: Hi\n    texts:\n      en: 'Dear {name}, ticket {ticket}'\n"
    )
    with pytest.raises(CannedRepliesError, match=r"canned\.yml:4: .*unknown placeholder \{name\}"):
        load_canned_replies(path)
    assert load_canned_replies(tmp_path / "absent.yml") == ()


def test_the_live_queue_changes_when_a_ticket_becomes_due_soon_and_passes_its_due_time(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No row changes when a clock runs on; the console's event stream must still fire."""
    from escalation.api.routes import events

    due = datetime.now(UTC) + timedelta(minutes=15)  # due soon from 10 min before (make_ticket)
    make_ticket(sessions, "due-soon", first_response_due_at=due)
    before = events._fingerprint(sessions)
    assert events._fingerprint(sessions) == before  # nothing moved
    fingerprints = [before]
    for moment in (due - timedelta(minutes=9), due + timedelta(seconds=1)):
        monkeypatch.setattr(events, "utc_now", lambda moment=moment: moment)
        fingerprints.append(events._fingerprint(sessions))
        with session_scope(sessions) as session:
            counts = tickets.sla_counts(session, now=moment)
        expected = (0, 1) if moment < due else (1, 0)  # (breached, due soon)
        assert (counts["breached"]["first_response"], counts["warning"]["first_response"]) == (
            expected
        )
        assert counts["breached"]["resolution"] == counts["warning"]["resolution"] == 0
    assert len(set(fingerprints)) == 3
