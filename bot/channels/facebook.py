"""Facebook Messenger, through Rasa's own connector (``rasa.core.channels.facebook``),
subclassed where it falls short for a helpdesk:

- **Authentication**: the stock webhook checks the SHA-1 ``X-Hub-Signature`` and answers a
  bad one with 200 "not validated". Here ``X-Hub-Signature-256`` (HMAC-SHA256 of the body with
  the app secret, what Meta signs with today) is required; 403 otherwise.
- **Every event, once**: the stock handler returns after the first event of a batch (Meta
  batches); here each is handled, and the message's ``mid`` (a postback's own ``mid``) is the
  message id (bot/launcher.py handles it once).
- **Identity**: the conversation is ``messenger:<PSID>``; the PSID goes on the ticket.
- **Output**: the stock input has no output channel of its own for Rasa's API, so an agent's
  reply triggered later was never sent; and its client posts with blocking ``requests`` in
  the event loop, logging refusals. Here one asynchronous ``POST /me/messages`` per message to
  a configurable Graph address (a local stand-in in tests), raising on refusal. Options are
  quick replies (at most 13, titles cut to 20 characters, Meta's limits); more than 13 become
  numbered lines.

Credentials: ``verify``, ``secret``, ``page-access-token`` (Rasa's names), ``graph_url``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.facebook import FacebookInput, MessengerBot
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.platform import (
    conversation_id,
    metadata,
    numbered_options,
    platform_id,
    send_request,
)

logger = logging.getLogger(__name__)

PLATFORM = "messenger"
DEFAULT_GRAPH_URL = "https://graph.facebook.com/v19.0"
#: Meta's limits on quick replies.
MAX_QUICK_REPLIES = 13
MAX_QUICK_REPLY_TITLE = 20
MAX_TEXT = 2000


class HelpdeskMessengerOutput(MessengerBot):
    """Sends through the Send API; raises ``SendFailed`` on refusal."""

    def __init__(self, page_access_token: str, graph_url: str) -> None:
        self.page_access_token = page_access_token
        self.graph_url = graph_url.rstrip("/")
        super(MessengerBot, self).__init__()  # MessengerBot's would build the blocking client

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._send(recipient_id, {"text": text[:MAX_TEXT]})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        if len(buttons) > MAX_QUICK_REPLIES:
            await self.send_text_message(recipient_id, numbered_options(text, buttons))
            return
        quick_replies = [
            {
                "content_type": "text",
                "title": str(button.get("title", ""))[:MAX_QUICK_REPLY_TITLE],
                "payload": str(button.get("payload", "")),
            }
            for button in buttons
        ]
        await self._send(recipient_id, {"text": text[:MAX_TEXT], "quick_replies": quick_replies})

    async def send_custom_json(self, recipient_id: str, json_message: Any, **kwargs: Any) -> None:
        await self._send(recipient_id, json_message)

    async def _send(self, recipient_id: str, message: dict[str, Any]) -> None:
        psid = platform_id(PLATFORM, recipient_id)
        await send_request(
            "POST",
            f"{self.graph_url}/me/messages",
            what=f"Messenger message to {psid}",
            params={"access_token": self.page_access_token},
            json={"recipient": {"id": psid}, "messaging_type": "RESPONSE", "message": message},
        )


class HelpdeskMessengerInput(FacebookInput):
    """``/webhooks/facebook/webhook``: Meta's verification (GET) and signed events (POST)."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        needed = ("verify", "secret", "page-access-token")
        if not credentials or not all(credentials.get(name) for name in needed):
            cls.raise_missing_credentials_exception()
        assert credentials is not None
        return cls(
            str(credentials["verify"]),
            str(credentials["secret"]),
            str(credentials["page-access-token"]),
            graph_url=str(credentials.get("graph_url") or DEFAULT_GRAPH_URL),
        )

    def __init__(
        self, fb_verify: str, fb_secret: str, fb_access_token: str, *, graph_url: str
    ) -> None:
        super().__init__(fb_verify, fb_secret, fb_access_token)
        self.graph_url = graph_url

    def get_output_channel(self) -> HelpdeskMessengerOutput:
        return HelpdeskMessengerOutput(self.fb_access_token, self.graph_url)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("fb_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            token = request.args.get("hub.verify_token") or ""
            if hmac.compare_digest(token.encode(), self.fb_verify.encode()):
                return response.text(request.args.get("hub.challenge") or "")
            return response.json({"message": "wrong hub.verify_token"}, status=403)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.is_signed(request.body, request.headers.get("X-Hub-Signature-256", "")):
                return response.json({"message": "wrong or missing X-Hub-Signature-256"}, 403)
            payload = request.json if isinstance(request.json, dict) else {}
            for entry in payload.get("entry") or []:
                for event in entry.get("messaging") or []:
                    message = self._user_message(event)
                    if message is not None:
                        await on_new_message(message)
            return response.text("EVENT_RECEIVED")

        return webhook

    def is_signed(self, body: bytes, header: str) -> bool:
        expected = hmac.new(self.fb_secret.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(f"sha256={expected}", header)

    def _user_message(self, event: dict[str, Any]) -> UserMessage | None:
        """The customer's words in one messaging event; None for echoes, reads, deliveries."""
        sender = (event.get("sender") or {}).get("id")
        message, postback = event.get("message") or {}, event.get("postback") or {}
        if message.get("is_echo") or not sender:
            return None
        quick_reply = (message.get("quick_reply") or {}).get("payload")
        text = quick_reply or message.get("text") or postback.get("payload")
        if not isinstance(text, str) or not text.strip():
            return None
        mid = message.get("mid") or postback.get("mid") or f"{sender}:{event.get('timestamp')}"
        return UserMessage(
            text,
            self.get_output_channel(),
            conversation_id(PLATFORM, sender),
            input_channel=self.name(),
            metadata=metadata(message_id=f"{PLATFORM}:{mid}", contact=f"Messenger PSID {sender}"),
        )
