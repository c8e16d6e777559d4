"""A customer on the socket.io channel (what the website widget uses) gets FAQ answers."""

from __future__ import annotations

import queue
import uuid
from typing import Any

import pytest
import socketio

from helpdesk.settings import Settings

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


class SocketCustomer:
    """A socket.io client that speaks Rasa's events and collects the bot's messages."""

    def __init__(self, url: str, transports: list[str]) -> None:
        self.client = socketio.Client(reconnection=False)
        self.confirmed: queue.Queue[Any] = queue.Queue()
        self.bot_messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.client.on("session_confirm", self.confirmed.put)
        self.client.on("bot_uttered", self.bot_messages.put)
        self.client.connect(url, transports=transports, wait_timeout=20)

    def start_session(self, session_id: str) -> None:
        self.client.emit("session_request", {"session_id": session_id})
        self.confirmed.get(timeout=20)

    def say(self, text: str, session_id: str) -> dict[str, Any]:
        self.client.emit("user_uttered", {"message": text, "session_id": session_id})
        return self.bot_messages.get(timeout=60)

    def close(self) -> None:
        self.client.disconnect()


@pytest.mark.parametrize("transports", [["polling"], ["websocket"]], ids=["polling", "websocket"])
def test_socketio_customer_gets_the_faq_answer(
    running_stack: Settings, transports: list[str]
) -> None:
    customer = SocketCustomer(f"http://{running_stack.host}:{running_stack.rasa_port}", transports)
    session_id = uuid.uuid4().hex
    try:
        customer.start_session(session_id)
        reply = customer.say("how long does delivery take", session_id)
    finally:
        customer.close()
    assert "working day" in reply["text"]
