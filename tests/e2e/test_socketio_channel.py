"""A customer on the socket.io channel (what the website widget uses) gets FAQ answers."""

from __future__ import annotations

import queue

import pytest

from core.settings import Settings
from tests.e2e.clients import SocketCustomer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.mark.parametrize("transports", [["polling"], ["websocket"]], ids=["polling", "websocket"])
def test_socketio_customer_gets_the_faq_answer(
    running_stack: Settings, transports: list[str]
) -> None:
    customer = SocketCustomer(f"http://{running_stack.host}:{running_stack.rasa_port}", transports)
    try:
        session_id = customer.start_session()
        reply = customer.say("how long does delivery take", session_id)
    finally:
        customer.close()
    assert "working day" in reply["text"]


def test_the_server_gives_the_session_its_id_and_drops_messages_for_unsigned_ones(
    running_stack: Settings,
) -> None:
    """The stock channel joined any room the client named, so "me" read someone's replies."""
    url = f"http://{running_stack.host}:{running_stack.rasa_port}"
    customer = SocketCustomer(url, ["websocket"])
    try:
        given = customer.start_session("me")
        assert given != "me" and given.count(".") == 1
        assert customer.start_session(given) == given  # a signed id is kept: reload, same chat
        customer.send("how long does delivery take", "me")
        with pytest.raises(queue.Empty):
            customer.next_message(timeout=5)
        assert "working day" in customer.say("how long does delivery take", given)["text"]
    finally:
        customer.close()
