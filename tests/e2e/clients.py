"""Customers for the end-to-end tests: signed conversation ids, a socket.io client speaking
Rasa's events."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
import socketio

from core.identity import new_conversation_id
from core.settings import Settings, conversation_secret

T = TypeVar("T")


def new_sender(stack: Settings) -> str:
    """A new conversation id the stack's channels take."""
    return new_conversation_id(conversation_secret(stack))


class SocketCustomer:
    """A socket.io client that speaks Rasa's events and collects the bot's messages."""

    def __init__(self, url: str, transports: list[str]) -> None:
        self.client = socketio.Client(reconnection=False)
        self.confirmed: queue.Queue[Any] = queue.Queue()
        self.bot_messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.client.on("session_confirm", self.confirmed.put)
        self.client.on("bot_uttered", self.bot_messages.put)
        self.client.connect(url, transports=transports, wait_timeout=20)

    def start_session(self, session_id: str | None = None) -> str:
        """The conversation id the server confirms: ``session_id`` if it is signed, else a
        new one the server issues."""
        self.client.emit("session_request", {"session_id": session_id})
        confirmed: str = self.confirmed.get(timeout=20)
        return confirmed

    def say(self, text: str, session_id: str) -> dict[str, Any]:
        self.send(text, session_id)
        return self.bot_messages.get(timeout=60)

    def send(self, text: str, session_id: str) -> None:
        self.client.emit("user_uttered", {"message": text, "session_id": session_id})

    def close(self) -> None:
        self.client.disconnect()

    def next_message(self, timeout: float = 60) -> dict[str, Any]:
        """The next thing the bot (or an agent through it) says."""
        return self.bot_messages.get(timeout=timeout)

    def messages_until(self, text_part: str, timeout: float = 60) -> list[dict[str, Any]]:
        """Messages up to and including the first whose text contains ``text_part``."""
        received = []
        while True:
            message = self.next_message(timeout)
            received.append(message)
            if text_part in (message.get("text") or ""):
                return received


def rasa_tracker(stack: Settings, sender: str, base_url: str | None = None) -> dict[str, Any]:
    """The conversation as Rasa's HTTP API returns it (the stack's token), from the stack's
    Rasa server or the one at ``base_url``."""
    assert stack.rasa_api_token is not None
    response = httpx.get(
        f"{base_url or stack.rasa_base_url}/conversations/{sender}/tracker",
        params={"token": stack.rasa_api_token.get_secret_value()},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    tracker: dict[str, Any] = response.json()
    return tracker


def eventually(check: Callable[[], T | None], timeout: float = 30) -> T:
    """The first truthy result of ``check``, polled until ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout}s: {check}")
        time.sleep(0.2)


def ticket_number(text: str) -> int:
    return int(text.split("#")[1].split(";")[0].split(" ")[0].rstrip("."))
