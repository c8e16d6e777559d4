"""Rasa's REST and socket.io channels, taking only signed conversation ids (core/identity.py).

The stock channels let the client name the conversation: a REST ``sender`` or a socket.io
``session_id`` of its choosing, so "me" or a guessed id read and wrote someone else's
conversation (the agent's replies included). Here a REST message needs a signed ``sender``
(else 403), and a socket.io session is given a signed id by the server unless it brings one;
a message for an unsigned id is dropped. Subclassed rather than rewritten: everything else
(streaming, metadata, rooms, output) stays Rasa's.

Runs in the Rasa environment (Python 3.10); the secret comes from HELPDESK_CONVERSATION_SECRET.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint
from sanic.exceptions import Forbidden
from sanic.request import Request

from core.identity import SECRET_ENV, is_signed, new_conversation_id

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def conversation_secret() -> str:
    """The secret every process shares; the server does not start without one."""
    secret = os.environ.get(SECRET_ENV, "")
    if not secret:
        raise RuntimeError(f"{SECRET_ENV} is not set: `helpdesk run` sets it for its Rasa server")
    return secret


class SignedRestInput(RestInput):
    """`POST /webhooks/rest/webhook` with a signed ``sender`` only (403 otherwise)."""

    async def _extract_sender(self, req: Request) -> str | None:
        sender = (req.json or {}).get("sender") if isinstance(req.json, dict) else None
        if not is_signed(sender, conversation_secret()):
            raise Forbidden(
                "'sender' must be a signed conversation id: get one from the helpdesk API "
                "(POST /api/conversations), or sign your own user id with the site secret"
            )
        return str(sender)


class SignedSocketIOInput(SocketIOInput):
    """The widget's channel: the server issues the conversation id; a session joins only
    the room of an id it can show the signature of."""

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        secret = conversation_secret()

        async def signed_only(message: UserMessage) -> None:
            if is_signed(message.sender_id, secret):
                await on_new_message(message)
            else:
                logger.warning("socket.io message for an unsigned conversation id dropped")

        blueprint = super().blueprint(signed_only)
        sio = self.sio

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: dict[str, Any] | None) -> None:
            """Replaces Rasa's, which joined any room the client named."""
            requested = (data or {}).get("session_id")
            session_id = requested if is_signed(requested, secret) else new_conversation_id(secret)
            sio.enter_room(sid, session_id)
            await sio.emit("session_confirm", session_id, room=sid)

        return blueprint
