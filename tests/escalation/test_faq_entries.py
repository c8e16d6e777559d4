"""The live FAQ through the API: editors draft (from scratch, from an agent's reply, from a
knowledge gap), edit, publish and unpublish; every change is in the history; plain agents
read only. `helpdesk kb export` writes the FAQ files with the published entries."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from core.settings import get_settings
from escalation import tickets
from escalation.auth import create_agent
from escalation.db import session_scope
from escalation.models import Author, Role
from escalation.tickets import Escalation, TranscriptLine, create_ticket_once
from helpdesk import cli
from knowledge.loader import load_faq

PASSWORD = "a long secret phrase"
ENGLISH = {
    "question": "Do you sell gift cards?",
    "alternatives": ["can I buy a gift voucher"],
    "answer": "Yes: gift cards of 25, 50 or 100 euro, at checkout.",
}
GIFT_CARDS = {"entry_id": "gift-cards", "variants": {"en": ENGLISH}}


def signed_in(
    client: TestClient, sessions: sessionmaker[Session], email: str, role: Role
) -> dict[str, str]:
    with session_scope(sessions) as session:
        create_agent(
            session, email=email, name=email.split("@")[0].title(), password=PASSWORD, role=role
        )
    token = client.post("/api/auth/token", json={"email": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def test_an_editor_drafts_edits_publishes_and_unpublishes_with_a_history(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    editor = signed_in(client, sessions, "eva@shop.nl", Role.EDITOR)
    agent = signed_in(client, sessions, "aart@shop.nl", Role.AGENT)
    refused = client.post("/api/faq/entries", json=GIFT_CARDS, headers=agent)
    assert refused.status_code == 403 and "editor" in refused.json()["detail"]

    made = client.post("/api/faq/entries", json=GIFT_CARDS, headers=editor)
    assert made.status_code == 201 and made.json()["status"] == "draft"
    key = made.json()["id"]
    again = client.post("/api/faq/entries", json=GIFT_CARDS, headers=editor)
    assert again.status_code == 409
    dutch = {"question": "Verkopen jullie cadeaubonnen?", "answer": "Ja, bij het afrekenen."}
    edited = {"variants": {"en": ENGLISH, "nl": dutch}}
    assert client.put(f"/api/faq/entries/{key}", json=edited, headers=editor).status_code == 200
    assert client.post(f"/api/faq/entries/{key}/publish", headers=agent).status_code == 403
    assert client.post(f"/api/faq/entries/{key}/publish", headers=editor).json()["status"] == (
        "published"
    )
    listed = client.get("/api/faq/entries", params={"status": "published"}, headers=agent)
    assert [entry["entry_id"] for entry in listed.json()] == ["gift-cards"]
    assert client.post(f"/api/faq/entries/{key}/unpublish", headers=editor).status_code == 200
    assert client.post(f"/api/faq/entries/{key}/unpublish", headers=editor).status_code == 409
    history = client.get(f"/api/faq/entries/{key}/history", headers=agent).json()
    assert [(h["action"], h["status"], h["agent"]["name"]) for h in history] == [
        ("drafted", "draft", "Eva"),
        ("edited", "draft", "Eva"),
        ("published", "published", "Eva"),
        ("unpublished", "unpublished", "Eva"),
    ]
    assert set(history[1]["variants"]) == {"en", "nl"}
    bad = {**GIFT_CARDS, "entry_id": "Gift Cards!"}
    assert client.post("/api/faq/entries", json=bad, headers=editor).status_code == 422
    regions = {"entry_id": "vales", "variants": {"pt-PT": ENGLISH, "pt-BR": ENGLISH}}
    refused = client.post("/api/faq/entries", json=regions, headers=editor)
    assert refused.status_code == 409 and "pt-BR and pt-PT are one language" in refused.text


def test_drafts_from_an_agent_reply_and_from_a_knowledge_gap(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    editor = signed_in(client, sessions, "eva@shop.nl", Role.EDITOR)
    escalation = Escalation(
        key="k",
        conversation_id="conv",
        channel="socketio",
        language="nl",
        language_confidence=0.9,
        reason="customer_request",
        transcript=[
            TranscriptLine(Author.CUSTOMER, "Verkopen jullie cadeaubonnen?", datetime.now(UTC))
        ],
    )
    with session_scope(sessions) as session:
        ticket, _ = create_ticket_once(session, escalation=escalation)
        session.flush()
        anna = create_agent(session, email="anna@shop.nl", name="Anna", password=PASSWORD)
        reply = tickets.add_reply(session, ticket=ticket, agent=anna, text="Ja, van 25 of 50 euro.")
        session.flush()
        reply_id, ticket_id = reply.id, ticket.id
    drafted = client.post(
        "/api/faq/entries/from-reply", json={"message_id": reply_id}, headers=editor
    )
    assert drafted.status_code == 201
    body = drafted.json()
    assert body["entry_id"] == "verkopen-jullie-cadeaubonnen"
    assert body["variants"]["nl"] == {
        "question": "Verkopen jullie cadeaubonnen?",
        "alternatives": [],
        "answer": "Ja, van 25 of 50 euro.",
    }
    assert body["source_ticket_id"] == ticket_id
    gap = {"language": "en", "questions": ["do you take paypal", "can I pay with paypal"],
           "answer": "Yes, PayPal works at checkout."}  # fmt: skip
    from_gap = client.post("/api/faq/entries/from-gap", json=gap, headers=editor).json()
    assert from_gap["variants"]["en"]["alternatives"] == ["can I pay with paypal"]
    unanswered = {**gap, "questions": ["do you ship to mars"], "answer": ""}
    draft = client.post("/api/faq/entries/from-gap", json=unanswered, headers=editor).json()
    refused = client.post(f"/api/faq/entries/{draft['id']}/publish", headers=editor)
    assert refused.status_code == 409 and "needs a question and an answer in 'en'" in refused.text
    assert (
        client.post(
            "/api/faq/entries/from-reply", json={"message_id": 999}, headers=editor
        ).status_code
        == 404
    )


def test_kb_export_writes_the_faq_files_with_the_published_entries(
    client: TestClient, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    editor = signed_in(client, sessions, "eva@shop.nl", Role.EDITOR)
    key = client.post("/api/faq/entries", json=GIFT_CARDS, headers=editor).json()["id"]
    client.post(f"/api/faq/entries/{key}/publish", headers=editor)
    files = load_faq(get_settings().faq_path)
    assert cli.main(["kb", "export", "--out", str(tmp_path / "live.yaml")]) == 0
    exported = {entry.id: entry for entry in load_faq(tmp_path / "live.yaml")}
    assert len(exported) == len(files) + 1
    assert exported["gift-cards"].variants["en"].alternatives == ("can I buy a gift voucher",)
    assert exported["reset-password"] == next(e for e in files if e.id == "reset-password")
