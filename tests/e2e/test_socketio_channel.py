"""A customer on the socket.io channel (what the website widget uses) gets FAQ answers."""

from __future__ import annotations

import uuid

import pytest

from core.settings import Settings
from tests.e2e.clients import SocketCustomer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


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
