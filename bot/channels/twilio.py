"""WhatsApp and SMS through Twilio, with Rasa's own connector (``rasa.core.channels.twilio``)
subclassed where it falls short for a helpdesk:

- **Authentication**: the stock webhook takes any POST. Here ``X-Twilio-Signature`` is checked
  with Twilio's own ``RequestValidator`` against the URL registered with Twilio
  (``webhook_url``; Twilio signs the public address, which a proxy in front may change) and
  the form fields; 403 otherwise.
- **Once per message**: ``MessageSid`` is the message id (bot/launcher.py handles it once).
- **Identity**: ``From`` ("whatsapp:+31…" or "+31…") is the conversation; the number and the
  WhatsApp profile name go on the ticket.
- **Output**: the stock one calls Twilio's blocking client inside Rasa's event loop and only
  logs a refusal (the reply counted as said). Here Twilio's own asynchronous client sends, to
  a configurable API address (a local stand-in in tests), and a refusal or timeout raises.
  Options are numbered lines (a typed "2" answers the second); a reply is sent whole.

Credentials: ``account_sid``, ``auth_token``, ``twilio_number`` (e.g. "whatsapp:+14155238886"),
``api_url``, ``webhook_url``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.twilio import TwilioInput, TwilioOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.base.exceptions import TwilioException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.channels.platform import SEND_TIMEOUT_SECONDS, SendFailed, metadata, numbered_options

logger = logging.getLogger(__name__)
# Twilio's client logs every request and response, body included, at INFO: a customer's
# words do not belong in the log at that level.
logging.getLogger("twilio.async_http_client").setLevel(logging.WARNING)

PLATFORM = "twilio"
DEFAULT_API_URL = "https://api.twilio.com"
#: Twilio's longest message body (WhatsApp's is 4096, SMS is split by Twilio).
MAX_TEXT = 1600


class HelpdeskTwilioOutput(TwilioOutput):
    """Sends with Twilio's asynchronous client; raises ``SendFailed`` on refusal."""

    def __init__(self, account_sid: str, auth_token: str, twilio_number: str, api_url: str) -> None:
        http_client = AsyncTwilioHttpClient(pool_connections=False, timeout=SEND_TIMEOUT_SECONDS)
        Client.__init__(self, account_sid, auth_token, http_client=http_client)
        self.twilio_number = twilio_number
        self.api.base_url = api_url.rstrip("/")

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._send(recipient_id, text)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self._send(recipient_id, numbered_options(text, buttons))

    async def _send(self, recipient_id: str, text: str) -> None:
        try:
            await self.messages.create_async(
                to=recipient_id, from_=self.twilio_number, body=text[:MAX_TEXT]
            )
        except (TwilioException, OSError) as error:  # aiohttp's errors are OSErrors
            raise SendFailed(f"Twilio message to {recipient_id}: {error!r}") from error


class HelpdeskTwilioInput(TwilioInput):
    """``POST /webhooks/twilio/webhook``: signed messages, handled once."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        needed = ("account_sid", "auth_token", "twilio_number")
        if not credentials or not all(credentials.get(name) for name in needed):
            cls.raise_missing_credentials_exception()
        assert credentials is not None
        return cls(
            str(credentials["account_sid"]),
            str(credentials["auth_token"]),
            str(credentials["twilio_number"]),
            api_url=str(credentials.get("api_url") or DEFAULT_API_URL),
            webhook_url=credentials.get("webhook_url") or None,
        )

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        twilio_number: str,
        *,
        api_url: str,
        webhook_url: str | None,
    ) -> None:
        super().__init__(account_sid, auth_token, twilio_number, debug_mode=False)
        self.api_url = api_url
        self.webhook_url = webhook_url
        self._validator = RequestValidator(auth_token)

    def get_output_channel(self) -> HelpdeskTwilioOutput:
        return HelpdeskTwilioOutput(
            str(self.account_sid), str(self.auth_token), str(self.twilio_number), self.api_url
        )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("twilio_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            # Twilio signs every field, the empty ones too; Sanic's request.form drops those
            form = dict(parse_qsl(request.body.decode("utf-8"), keep_blank_values=True))
            signature = request.headers.get("X-Twilio-Signature", "")
            url = self.webhook_url or request.url
            if not self._validator.validate(url, form, signature):
                logger.warning(
                    "Twilio webhook refused: its signature does not match %s (behind a proxy, "
                    "set HELPDESK_TWILIO_WEBHOOK_URL to the URL registered with Twilio)",
                    url,
                )
                return response.json({"message": "wrong or missing X-Twilio-Signature"}, 403)
            message = self._user_message(form)
            if message is not None:
                await on_new_message(message)
            return response.text("", status=204)  # no TwiML: the answer goes by the API

        return webhook

    def _user_message(self, form: dict[str, str]) -> UserMessage | None:
        sender, text = form.get("From"), form.get("Body", "")
        if not sender or not text.strip():
            return None  # media only, or a status callback
        name = f" ({form['ProfileName']})" if form.get("ProfileName") else ""
        return UserMessage(
            text,
            self.get_output_channel(),
            sender,
            input_channel=self.name(),
            metadata=metadata(
                message_id=f"{PLATFORM}:{form.get('MessageSid') or form.get('SmsSid')}",
                contact=f"{sender}{name}",
            ),
        )
