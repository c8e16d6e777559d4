"""A widget customer who gave an e-mail address and closed the page gets the agent's reply
by e-mail (through a local mail server); while the page is open, only in the chat. The
transcript goes by e-mail when an agent sends it."""

from __future__ import annotations

import time

import httpx
import pytest

from core.settings import Settings
from tests.e2e.clients import SocketCustomer, ticket_number
from tests.smtp import Inbox

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ADDRESS = "piet.de.vries@klantmail.nl"


def test_a_customer_who_left_reads_the_reply_by_e_mail(
    running_stack: Settings, agent: httpx.Client, smtp_stand_in: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp_stand_in
    customer = SocketCustomer(
        f"http://{running_stack.host}:{running_stack.rasa_port}", ["websocket"]
    )
    try:
        sid = customer.start_session()
        customer.say(f"my email address is {ADDRESS}", sid)
        customer.send("I want to talk to a person", sid)
        created = customer.messages_until("Your ticket is #")[-1]["text"]
        ticket_id = ticket_number(created)
        assert agent.get(f"/api/tickets/{ticket_id}").json()["customer_email"] == ADDRESS

        agent.post(f"/api/tickets/{ticket_id}/replies", json={"text": "First: while you're here."})
        customer.messages_until("while you're here")
        time.sleep(2)  # the delivery worker has marked it delivered and asked who is there
        assert inbox.to(ADDRESS) == []  # read in the chat: no e-mail
    finally:
        customer.close()

    agent.post(f"/api/tickets/{ticket_id}/replies", json={"text": "Second: after you left."})
    [mail] = inbox.wait_for(ADDRESS)
    assert mail["Subject"] == f"Your ticket #{ticket_id}"
    body = mail.get_content()
    assert "Anna from our team replied about your ticket" in body
    assert "Second: after you left." in body and "First" not in body

    sent = agent.post(f"/api/tickets/{ticket_id}/transcript-email")
    assert sent.status_code == 202
    transcript_mail = inbox.wait_for(ADDRESS, count=2)[-1]
    [attachment] = list(transcript_mail.iter_attachments())
    text = attachment.get_content()
    assert f"You: my email address is {ADDRESS}" in text
    assert "Anna: First: while you're here." in text and "Anna: Second: after you left." in text
    history = agent.get(f"/api/tickets/{ticket_id}").json()["messages"]
    assert any(
        m["author"] == "system" and m["text"].startswith(f"Transcript e-mailed to {ADDRESS}")
        for m in history
    )
