"""Slack, through Rasa's own connector (``rasa.core.channels.slack``), subclassed where it
falls short for a helpdesk:

- **Authentication**: the stock signing-secret check (HMAC-SHA256 of ``v0:<timestamp>:<body>``,
  five-minute replay window) is kept; a request that fails it is answered 401 rather than 400,
  and a signing secret is required.
- **Once per event**: the stock handler drops only retries for ``http_timeout`` and handles
  any other retry again. Here the Events API's ``event_id`` (an interactive payload's
  ``action_ts``) is the message id (bot/launcher.py handles it once), so every retry,
  whatever its reason, is answered once.
- **Identity**: the conversation is ``slack:<user id>``; user and channel go on the ticket.
  (Slack's locale needs a ``users.info`` call per message: not asked; language comes from
  the words.)
- **Output**: Slack's own client with a configurable API address (a local stand-in in tests);
  it raises on refusal, so a failed send is tried again. Options are Slack's block buttons
  (kept by the stock output), a reply is posted whole.

The stock handler answers Slack at once and handles the message in the background (Slack
wants an answer within 3 s); kept.

Credentials: ``slack_token``, ``slack_signing_secret``, ``api_url``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel
from rasa.core.channels.slack import SlackBot, SlackInput
from sanic import Blueprint, response
from sanic.request import Request
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.platform import SendFailed, conversation_id, metadata, platform_id

logger = logging.getLogger(__name__)

PLATFORM = "slack"
DEFAULT_API_URL = "https://slack.com/api/"


class HelpdeskSlackOutput(SlackBot):
    """Posts to the customer's direct messages (their user id) or the channel they wrote in."""

    def __init__(self, token: str, api_url: str, slack_channel: str | None = None) -> None:
        super().__init__(token, slack_channel)
        self.client = AsyncWebClient(token, base_url=api_url.rstrip("/") + "/")

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._post_message(channel=self._where(recipient_id), text=text, type="mrkdwn")

    async def _post_message(self, channel: str, **kwargs: Any) -> None:
        kwargs.pop("as_user", None)  # classic apps only; a bot token's post is the bot's
        try:
            await super()._post_message(platform_id(PLATFORM, channel), **kwargs)
        except (SlackClientError, OSError) as error:
            raise SendFailed(f"Slack chat.postMessage to {channel}: {error!r}") from error

    def _where(self, recipient_id: str) -> str:
        return self.slack_channel or recipient_id


class HelpdeskSlackInput(SlackInput):
    """``POST /webhooks/slack/webhook``: signed events, each handled once."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        if not credentials or not credentials.get("slack_token"):
            cls.raise_missing_credentials_exception()
        assert credentials is not None
        if not credentials.get("slack_signing_secret"):
            raise ValueError("Slack needs its signing secret (HELPDESK_SLACK_SIGNING_SECRET)")
        channel = cls(
            str(credentials["slack_token"]),
            slack_retry_reason_header="x-slack-retry-reason",
            slack_retry_number_header="x-slack-retry-num",
            errors_ignore_retry=[],  # retries are handled once by their event id instead
            slack_signing_secret=str(credentials["slack_signing_secret"]),
        )
        channel.api_url = str(credentials.get("api_url") or DEFAULT_API_URL)
        return channel

    api_url = DEFAULT_API_URL

    def blueprint(self, on_new_message: Any) -> Blueprint:
        blueprint = super().blueprint(on_new_message)

        @blueprint.middleware("request")  # type: ignore[misc]
        async def signed_only(request: Request) -> Any:
            if request.method == "POST" and not self.is_request_from_slack_authentic(request):
                return response.json({"message": "not signed with the signing secret"}, 401)
            return None

        return blueprint

    def get_output_channel(
        self, channel: str | None = None, thread_id: str | None = None
    ) -> OutputChannel:
        return HelpdeskSlackOutput(self.slack_token, self.api_url, channel or self.slack_channel)

    def _get_conversation_id(
        self, sender_id: str | None, channel_id: str | None, thread_id: str | None
    ) -> str | None:
        return conversation_id(PLATFORM, sender_id) if sender_id else None

    def get_metadata(self, request: Request) -> dict[str, Any]:
        found = super().get_metadata(request)
        if request.headers.get("content-type") == "application/json":
            body = request.json or {}
            event = body.get("event") or {}
            key, user = body.get("event_id"), event.get("user")
        else:
            payload = json.loads(request.form["payload"][0])
            actions = payload.get("actions") or [{}]
            key, user = actions[0].get("action_ts"), (payload.get("user") or {}).get("id")
        contact = f"Slack user {user} in {found.get('out_channel')}"
        return found | metadata(message_id=f"{PLATFORM}:{key}", contact=contact)
