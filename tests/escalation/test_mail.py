"""E-mail to customers: the address found in the chat, updates and transcripts in their
language, sent once through a real (local) SMTP server, retried when it fails."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.settings import Settings, get_settings
from escalation import tickets
from escalation.auth import create_agent
from escalation.db import session_scope
from escalation.errors import MailConfigError, TicketStateError
from escalation.mail import (
    MailWorker,
    SmtpServer,
    customer_texts,
    find_address,
    queue_transcript,
    queue_update,
    smtp_server,
)
from escalation.models import Agent, Author, Delivery, DeliveryKind, Email, TicketStatus
from escalation.tickets import Escalation, TranscriptLine, create_ticket_once
from helpdesk.supervisor import free_port
from tests.smtp import Inbox, start_smtp

START = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
CUSTOMER = "klant.jansen@voorbeeld.nl"
PASSWORD = "long enough secret"


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("mijn mail is Klant.Jansen@Voorbeeld.NL.", "Klant.Jansen@voorbeeld.nl"),
        ("first a@shop.nl, no: b.second@shop.nl", "b.second@shop.nl"),
        ("order 48213 has not arrived", None),
        ("me@localhost or john@@shop.nl", None),
        ("<script>x@y</script>", None),
    ],
)
def test_the_latest_address_in_a_message_is_found(text: str, address: str | None) -> None:
    assert find_address(text) == address


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, SmtpServer]]:
    port = free_port()
    inbox, controller = start_smtp(port)
    yield inbox, SmtpServer("127.0.0.1", port, "none", None, None, "Shop <help@shop.nl>")
    controller.stop()


def escalated(sessions: sessionmaker[Session], *lines: str, language: str = "nl") -> int:
    transcript = [
        TranscriptLine(Author.CUSTOMER, text, START + timedelta(seconds=i))
        for i, text in enumerate(lines)
    ]
    escalation = Escalation(
        key=f"mail-{len(lines)}-{language}",
        conversation_id="widget-conversation",
        channel="socketio",
        language=language,
        language_confidence=0.9,
        reason="customer_request",
        transcript=transcript,
    )
    with session_scope(sessions) as session:
        ticket, _ = create_ticket_once(session, escalation=escalation)
        session.flush()
        return ticket.id


def agent_reply(sessions: sessionmaker[Session], ticket_id: int, text: str) -> int:
    """The agent's reply; the id of its delivery."""
    with session_scope(sessions) as session:
        agent = session.scalar(select(Agent).limit(1)) or create_agent(
            session, email="anna@shop.nl", name="Anna Berg", password=PASSWORD
        )
        ticket = tickets.get_ticket(session, ticket_id=ticket_id)
        message = tickets.add_reply(session, ticket=ticket, agent=agent, text=text)
        session.flush()
        return session.scalars(select(Delivery.id).where(Delivery.message_id == message.id)).one()


def test_an_agent_reply_goes_by_mail_once_in_the_customer_s_language(
    sessions: sessionmaker[Session], smtp: tuple[Inbox, SmtpServer]
) -> None:
    inbox, server = smtp
    ticket_id = escalated(sessions, "waar is mijn pakket?", f"mail me op {CUSTOMER} graag")
    delivery_id = agent_reply(sessions, ticket_id, "Het komt morgen.")
    with session_scope(sessions) as session:
        assert queue_update(session, delivery_id=delivery_id)
        assert not queue_update(session, delivery_id=delivery_id)  # once per delivery
    worker = MailWorker(sessions, server, customer_texts())
    assert asyncio.run(worker.send_pending()) == 1
    assert asyncio.run(worker.send_pending()) == 0
    [mail] = inbox.to(CUSTOMER)
    assert mail["Subject"] == f"Je ticket #{ticket_id}"
    assert mail["From"] == "Shop <help@shop.nl>"
    body = mail.get_content()
    assert f"Anna van ons team heeft gereageerd op je ticket #{ticket_id}:" in body
    assert "Het komt morgen." in body
    with sessions() as session:
        row = session.scalars(select(Email)).one()
        assert row.sent_at is not None and row.attempts == 1
        assert mail["Message-ID"] == f"<helpdesk-email-{row.id}@shop.nl>"


def test_a_status_update_says_what_the_chat_said(
    sessions: sessionmaker[Session], smtp: tuple[Inbox, SmtpServer]
) -> None:
    inbox, server = smtp
    ticket_id = escalated(sessions, f"I am {CUSTOMER}", language="en")
    with session_scope(sessions) as session:
        agent = create_agent(session, email="ben@shop.nl", name="Ben Vos", password=PASSWORD)
        ticket = tickets.get_ticket(session, ticket_id=ticket_id)
        tickets.change_status(session, ticket=ticket, agent=agent, status=TicketStatus.RESOLVED)
        session.flush()
        [resolved] = session.scalars(select(Delivery.id)).all()
        queue_update(session, delivery_id=resolved)
    asyncio.run(MailWorker(sessions, server, customer_texts()).send_pending())
    [mail] = inbox.to(CUSTOMER)
    assert mail.get_content().startswith(f"Your ticket #{ticket_id} has been resolved.")


def test_no_address_no_mail_and_a_transcript_needs_one(
    sessions: sessionmaker[Session],
) -> None:
    ticket_id = escalated(sessions, "waar is mijn pakket?")
    delivery_id = agent_reply(sessions, ticket_id, "Morgen.")
    with session_scope(sessions) as session:
        assert not queue_update(session, delivery_id=delivery_id)
        ticket = tickets.get_ticket(session, ticket_id=ticket_id)
        with pytest.raises(TicketStateError, match="has not written an e-mail address"):
            queue_transcript(session, ticket=ticket)


def test_the_transcript_is_attached_without_internal_notes(
    sessions: sessionmaker[Session], smtp: tuple[Inbox, SmtpServer]
) -> None:
    inbox, server = smtp
    ticket_id = escalated(sessions, "Το πακέτο μου;", f"email: {CUSTOMER}", language="el")
    agent_reply(sessions, ticket_id, "Έρχεται αύριο.")
    with session_scope(sessions) as session:
        ticket = tickets.get_ticket(session, ticket_id=ticket_id)
        agent = session.scalars(select(Agent)).one()
        tickets.add_note(session, ticket=ticket, agent=agent, text="secret: customer is rude")
        queue_transcript(session, ticket=ticket)
    asyncio.run(MailWorker(sessions, server, customer_texts()).send_pending())
    [mail] = inbox.to(CUSTOMER)
    assert f"#{ticket_id}" in mail["Subject"]
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == f"ticket-{ticket_id}-transcript.txt"
    text = attachment.get_content()
    assert "You: Το πακέτο μου;" in text and "Anna: Έρχεται αύριο." in text
    assert "secret" not in text and "Handed to a person" not in text


def test_a_refusing_server_is_tried_again_later_and_nothing_is_lost(
    sessions: sessionmaker[Session], smtp: tuple[Inbox, SmtpServer]
) -> None:
    inbox, server = smtp
    ticket_id = escalated(sessions, f"{CUSTOMER}")
    delivery_id = agent_reply(sessions, ticket_id, "Morgen.")
    with session_scope(sessions) as session:
        queue_update(session, delivery_id=delivery_id)
    worker = MailWorker(sessions, server, customer_texts(), interval=0.01)
    inbox.refuse = True
    assert asyncio.run(worker.send_pending()) == 0
    with sessions() as session:
        row = session.scalars(select(Email)).one()
        assert row.sent_at is None and row.attempts == 1 and "451" in (row.last_error or "")
    inbox.refuse = False
    with session_scope(sessions) as session:  # the back-off has passed
        session.scalars(select(Email)).one().next_try_at = None
    assert asyncio.run(worker.send_pending()) == 1
    assert len(inbox.to(CUSTOMER)) == 1


def test_a_server_without_a_sender_is_refused_at_start() -> None:
    with pytest.raises(MailConfigError, match="HELPDESK_MAIL_FROM"):
        smtp_server(Settings(smtp_host="127.0.0.1"))
    assert smtp_server(Settings()) is None
    server = smtp_server(Settings(smtp_host="mail.shop.nl", mail_from="help@shop.nl"))
    assert server is not None and server.security == "starttls" and server.port == 587


def test_every_delivery_kind_has_its_words() -> None:
    from escalation.mail import UPDATE_RESPONSES

    texts = customer_texts()
    for kind in DeliveryKind:
        assert texts.say(UPDATE_RESPONSES[kind], "ru", ticket_id=1, agent_name="Анна")


def test_an_agent_e_mails_the_transcript_from_the_api(
    tmp_path: Path,
    database_url: str,
    sessions: sessionmaker[Session],
    smtp: tuple[Inbox, SmtpServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inbox, server = smtp
    with_address = escalated(sessions, f"graag naar {CUSTOMER}")
    without = escalated(sessions, "geen adres", "hier ook niet", language="en")
    with session_scope(sessions) as session:
        create_agent(session, email="anna@shop.nl", name="Anna Berg", password=PASSWORD)
    for name, value in {
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": database_url,
        "RASA_PORT": str(free_port()),
        "SMTP_HOST": server.host,
        "SMTP_PORT": str(server.port),
        "SMTP_SECURITY": "none",
        "MAIL_FROM": server.sender,
    }.items():
        monkeypatch.setenv(f"HELPDESK_{name}", value)
    get_settings.cache_clear()
    from escalation.api.main import app

    with TestClient(app) as client:
        token = client.post(
            "/api/auth/token", json={"email": "anna@shop.nl", "password": PASSWORD}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        ticket = client.get(f"/api/tickets/{with_address}", headers=headers).json()
        assert ticket["customer_email"] == CUSTOMER
        sent = client.post(f"/api/tickets/{with_address}/transcript-email", headers=headers)
        assert sent.status_code == 202 and sent.json()["to_address"] == CUSTOMER
        refused = client.post(f"/api/tickets/{without}/transcript-email", headers=headers)
        assert refused.status_code == 409 and "e-mail address" in refused.json()["detail"]
        [mail] = inbox.wait_for(CUSTOMER)
        assert len(list(mail.iter_attachments())) == 1
    get_settings.cache_clear()
    monkeypatch.delenv("HELPDESK_SMTP_HOST")
    with TestClient(app) as client:
        token = client.post(
            "/api/auth/token", json={"email": "anna@shop.nl", "password": PASSWORD}
        ).json()["access_token"]
        off = client.post(
            f"/api/tickets/{with_address}/transcript-email",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert off.status_code == 409 and "HELPDESK_SMTP_HOST" in off.json()["detail"]
    get_settings.cache_clear()
