"""E-mail to a customer who left the chat: ticket updates and, on request, the transcript.

A widget customer who closed the page reads an agent's reply only on their next visit. When
they wrote an e-mail address in the conversation, every update the bot says in the chat while
nobody is connected to it (Rasa's socket.io server says who is) is sent by e-mail too; an
agent can send the transcript as an attachment when the customer asks for it. The words are
the bot's own responses from domain.yml in the ticket's language: the customer reads the
same sentence in the chat and in the mail.

Rows wait in the ``emails`` table, written in the transaction that decides them. A worker in
the API claims one with a conditional update (two API processes send it once), sends it with
the standard library's smtplib in a thread, and retries with back-off; a crash after the
server took it sends it again with the same Message-ID, which mail clients show once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.settings import PROJECT_ROOT, Settings
from escalation.db import session_scope
from escalation.errors import MailConfigError, RasaUnavailable, TicketStateError
from escalation.models import (
    Author,
    Delivery,
    DeliveryKind,
    Email,
    EmailKind,
    Ticket,
    TranscriptMessage,
    utc_now,
)
from escalation.outbox import QueuedDelivery
from escalation.rasa_client import RasaClient
from escalation.worker import PollingWorker

logger = logging.getLogger(__name__)

DOMAIN_PATH = PROJECT_ROOT / "domain.yml"
#: Something shaped like an address; email-validator decides whether it is one.
ADDRESS_LIKE = re.compile(r"[^\s@<>()\[\],;:\"']+@[^\s@<>()\[\],;:\"']+\.[^\s@<>()\[\],;:\"']+")
#: The chat channel of the website widget: the only one whose customer can leave and miss
#: an update (messaging apps deliver to the phone; REST callers are integrations).
WIDGET_CHANNEL = "socketio"
#: What each chat delivery says, as the domain's response (same words in the chat).
UPDATE_RESPONSES = {
    DeliveryKind.PICKED_UP: "utter_agent_joined",
    DeliveryKind.WAITING_ON_CUSTOMER: "utter_waiting_on_you",
    DeliveryKind.DELAY_NOTICE: "utter_delay_notice",
    DeliveryKind.RESOLVED: "utter_ticket_resolved",
    DeliveryKind.REOPENED: "utter_ticket_reopened",
    DeliveryKind.AGENT_REPLY: "utter_email_agent_replied",
}
SEND_TIMEOUT_SECONDS = 20.0
MAX_BACKOFF = timedelta(hours=1)
#: Held by the process sending a row: long enough for a slow server, short after a crash.
CLAIM = timedelta(minutes=2)


def find_address(text: str) -> str | None:
    """The last e-mail address written in ``text``, normalized (lower-case domain), if any."""
    found = None
    for candidate in ADDRESS_LIKE.findall(text):
        with contextlib.suppress(EmailNotValidError):
            found = validate_email(candidate.rstrip("."), check_deliverability=False).normalized
    return found


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    security: str
    username: str | None
    password: str | None
    sender: str

    def send(self, message: EmailMessage) -> None:
        """Hand ``message`` to the server (blocking: run it in a thread)."""
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if self.security == "tls":
            client = smtplib.SMTP_SSL(
                self.host, self.port, timeout=SEND_TIMEOUT_SECONDS, context=context
            )
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=SEND_TIMEOUT_SECONDS)
        with client:
            if self.security == "starttls":
                client.starttls(context=context)
            if self.username:
                client.login(self.username, self.password or "")
            client.send_message(message)


def smtp_server(settings: Settings) -> SmtpServer | None:
    """The configured server; None when e-mail is off.

    Raises:
        MailConfigError: a server without a From address, or a From that is not an address.
    """
    if not settings.smtp_host:
        return None
    sender = settings.mail_from or ""
    if not find_address(parseaddr(sender)[1] or sender):
        raise MailConfigError(
            "HELPDESK_SMTP_HOST is set: set HELPDESK_MAIL_FROM to the From of e-mail to "
            "customers, e.g. 'Shop support <help@shop.example>'"
        )
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return SmtpServer(
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_security,
        settings.smtp_username,
        password,
        sender,
    )


class CustomerTexts:
    """The bot's responses (domain.yml), by name and language, as plain text."""

    def __init__(self, responses: dict[str, list[dict[str, Any]]], default_language: str) -> None:
        self._responses = responses
        self._default = default_language

    def say(self, name: str, language: str, **values: Any) -> str:
        variations = self._responses[name]
        chosen = next(
            (v for v in variations if _language_of(v) == language),
            next(v for v in variations if _language_of(v) is None),
        )
        return str(chosen["text"]).format(**values)


def _language_of(variation: dict[str, Any]) -> str | None:
    for condition in variation.get("condition") or []:
        if condition.get("name") == "language":
            return str(condition.get("value"))
    return None


@lru_cache(maxsize=2)
def customer_texts(path: Path = DOMAIN_PATH, default_language: str = "en") -> CustomerTexts:
    domain = yaml.safe_load(path.read_text(encoding="utf-8"))
    return CustomerTexts(domain["responses"], default_language)


def note_address(ticket: Ticket, text: str) -> None:
    """Keep the address the customer just wrote on their ticket (the latest one wins)."""
    address = find_address(text)
    if address:
        ticket.customer_email = address


def queue_update(session: Session, *, delivery_id: int) -> bool:
    """An e-mail repeating the delivery, for a customer who has given an address; once per
    delivery (a unique key). Whether one was queued."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None or not delivery.ticket.customer_email:
        return False
    email = Email(
        ticket_id=delivery.ticket_id,
        kind=EmailKind.UPDATE,
        delivery_id=delivery_id,
        to_address=delivery.ticket.customer_email,
    )
    try:
        with session.begin_nested():
            session.add(email)
    except IntegrityError:
        return False  # queued already (the delivery was retried)
    return True


def queue_transcript(session: Session, *, ticket: Ticket) -> Email:
    """The transcript, attached, to the address the customer gave.

    Raises:
        TicketStateError: the customer wrote no address in the conversation.
    """
    if not ticket.customer_email:
        raise TicketStateError(
            f"ticket #{ticket.id}: the customer has not written an e-mail address in the chat"
        )
    email = Email(ticket=ticket, kind=EmailKind.TRANSCRIPT, to_address=ticket.customer_email)
    session.add(email)
    return email


def compose(email: Email, texts: CustomerTexts, sender: str) -> EmailMessage:
    """The message for a queued row, in the ticket's language."""
    ticket = email.ticket
    language, number = ticket.language, ticket.id
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email.to_address
    message["Subject"] = texts.say("utter_email_subject", language, ticket_id=number)
    domain = (parseaddr(sender)[1] or sender).rpartition("@")[2] or "helpdesk"
    message["Message-ID"] = f"<helpdesk-email-{email.id}@{domain}>"
    footer = texts.say("utter_email_footer", language, ticket_id=number)
    if email.kind == EmailKind.TRANSCRIPT:
        body = texts.say("utter_email_transcript", language, ticket_id=number)
        message.set_content(f"{body}\n\n{footer}\n")
        message.add_attachment(
            transcript_text(ticket.messages),
            subtype="plain",
            filename=f"ticket-{number}-transcript.txt",
        )
        return message
    message.set_content(f"{_update_text(email, texts)}\n\n{footer}\n")
    return message


def _update_text(email: Email, texts: CustomerTexts) -> str:
    delivery, ticket = email.delivery, email.ticket
    agent = delivery.message.agent if delivery and delivery.message else None
    agent_name = (agent.name.split()[0] if agent else None) or (
        ticket.assignee.name.split()[0] if ticket.assignee else ""
    )
    kind = delivery.kind if delivery else DeliveryKind.AGENT_REPLY
    said = texts.say(
        UPDATE_RESPONSES[kind], ticket.language, ticket_id=ticket.id, agent_name=agent_name
    )
    if kind == DeliveryKind.AGENT_REPLY and delivery and delivery.message:
        return f"{said}\n\n{delivery.message.text}"
    return said


def transcript_text(messages: Sequence[TranscriptMessage]) -> str:
    """What the customer saw, one line per turn: no internal notes, no ticket history."""
    lines = []
    for message in messages:
        if message.author == Author.CUSTOMER:
            who = "You"
        elif message.author == Author.BOT:
            who = "Bot"
        elif message.author == Author.AGENT:
            who = message.agent.name.split()[0] if message.agent else "Agent"
        else:
            continue
        lines.append(f"[{message.sent_at:%Y-%m-%d %H:%M} UTC] {who}: {message.text}")
    return "\n".join(lines) + "\n"


class MailWorker(PollingWorker):
    """Sends queued e-mail, each row once in effect, with back-off on failure."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        server: SmtpServer,
        texts: CustomerTexts,
        *,
        interval: float = 5.0,
    ) -> None:
        super().__init__(interval)
        self._sessions = sessions
        self._server = server
        self._texts = texts

    async def one_pass(self) -> int:
        return await self.send_pending()

    async def send_pending(self) -> int:
        """Send every row due now, one after another; how many the server took."""
        sent = 0
        for email_id in await asyncio.to_thread(self._due):
            message = await asyncio.to_thread(self._claim, email_id)
            if message is None:
                continue  # another process has it
            try:
                await asyncio.to_thread(self._server.send, message)
            except (OSError, smtplib.SMTPException) as error:
                await asyncio.to_thread(self._failed, email_id, repr(error))
                continue
            await asyncio.to_thread(self._sent, email_id)
            sent += 1
        return sent

    def _due(self) -> list[int]:
        now = utc_now()
        with self._sessions() as session:
            query = (
                select(Email.id)
                .where(
                    Email.sent_at.is_(None),
                    or_(Email.next_try_at.is_(None), Email.next_try_at <= now),
                )
                .order_by(Email.id)
                .limit(50)
            )
            return list(session.scalars(query))

    def _claim(self, email_id: int) -> EmailMessage | None:
        now = utc_now()
        with session_scope(self._sessions) as session:
            claimed = session.execute(
                update(Email)
                .where(
                    Email.id == email_id,
                    Email.sent_at.is_(None),
                    or_(Email.next_try_at.is_(None), Email.next_try_at <= now),
                )
                .values(next_try_at=now + CLAIM, attempts=Email.attempts + 1)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return None
            email = session.get_one(Email, email_id)
            return compose(email, self._texts, self._server.sender)

    def _sent(self, email_id: int) -> None:
        with session_scope(self._sessions) as session:
            session.execute(
                update(Email)
                .where(Email.id == email_id)
                .values(sent_at=utc_now(), next_try_at=None, last_error=None)
            )
        logger.info("e-mail %s sent", email_id)

    def _failed(self, email_id: int, error: str) -> None:
        with session_scope(self._sessions) as session:
            email = session.get_one(Email, email_id)
            backoff = min(timedelta(seconds=self._interval * 2**email.attempts), MAX_BACKOFF)
            email.next_try_at = utc_now() + backoff
            email.last_error = error[:1000]
        logger.warning("e-mail %s failed (attempt %s): %s", email_id, email.attempts, error)


def ticket_address(sessions: sessionmaker[Session], *, ticket_id: int) -> tuple[str, str | None]:
    """(channel, customer e-mail) of the ticket."""
    with sessions() as session:
        row = session.execute(
            select(Ticket.channel, Ticket.customer_email).where(Ticket.id == ticket_id)
        ).one()
        return row[0], row[1]


async def email_if_away(
    sessions: sessionmaker[Session], rasa: RasaClient, delivered: QueuedDelivery
) -> bool:
    """After the bot said ``delivered`` in a widget conversation nobody is connected to, the
    same by e-mail, when the customer gave an address; whether one was queued."""
    channel, address = await asyncio.to_thread(
        ticket_address, sessions, ticket_id=delivered.ticket_id
    )
    if channel != WIDGET_CHANNEL or not address:
        return False
    try:
        if await rasa.is_connected(conversation_id=delivered.conversation_id):
            return False
    except RasaUnavailable as error:  # unknown: the customer asked for news, so send it
        logger.warning("presence of %s unknown: %s", delivered.conversation_id, error)
    return await asyncio.to_thread(_queue_update, sessions, delivered.delivery_id)


def _queue_update(sessions: sessionmaker[Session], delivery_id: int) -> bool:
    with session_scope(sessions) as session:
        return queue_update(session, delivery_id=delivery_id)
