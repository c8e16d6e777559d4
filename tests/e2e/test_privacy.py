"""Erasing a customer through the real stack: after `erase`, neither the ticket database nor
Rasa's tracker store holds their words, not even in the files' free pages."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import pytest

from core.settings import Settings
from escalation.privacy import erase_customers, export_customer
from tests.e2e.clients import new_sender

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def say(stack: Settings, sender: str, text: str) -> list[dict[str, object]]:
    url = f"http://{stack.host}:{stack.rasa_port}/webhooks/rest/webhook"
    response = httpx.post(url, json={"sender": sender, "message": text}, timeout=60)
    assert response.status_code == 200, response.text
    replies: list[dict[str, object]] = response.json()
    return replies


def files_holding(directory: Path, marker: bytes) -> list[str]:
    """The database files (and their journals) in ``directory`` whose bytes hold ``marker``."""
    return sorted(
        path.name
        for path in directory.glob("*.db*")
        if path.is_file() and marker in path.read_bytes()
    )


def test_an_erased_customer_leaves_no_text_in_either_store(running_stack: Settings) -> None:
    marker = f"zebra{uuid.uuid4().hex[:10]}"
    sender = new_sender(running_stack)
    say(running_stack, sender, f"my name is {marker}, where is my parcel?")
    say(running_stack, sender, "I want to talk to a human")
    say(running_stack, sender, f"call me at {marker} please")
    deadline = time.monotonic() + 30
    while True:  # the relay is written by the action server as Rasa answers
        exported = export_customer(running_stack, conversation_id=sender)
        said = [m["text"] for t in exported["tickets"] for m in t["messages"]]
        if any(marker in text for text in said) and len(said) >= 4:
            break
        assert time.monotonic() < deadline, said
        time.sleep(0.5)
    assert any(marker in str(event.get("text")) for event in exported["conversation"])
    assert files_holding(running_stack.data_dir, marker.encode())

    erased = erase_customers(running_stack, [sender])

    assert (erased.tickets, erased.tracker_events > 0) == (1, True)
    after = export_customer(running_stack, conversation_id=sender)
    assert (after["tickets"], after["conversation"]) == ([], [])
    assert files_holding(running_stack.data_dir, marker.encode()) == []
    logs = running_stack.data_dir / "logs"
    assert not [p.name for p in logs.iterdir() if marker.encode() in p.read_bytes()]
    # The stack goes on: the same id starts afresh.
    assert say(running_stack, sender, "how long does delivery take")
