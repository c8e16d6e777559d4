"""What the messaging-app channels (Telegram, Twilio, Messenger, Slack) have in common.

- **Conversation ids** are ``<platform>:<the platform's id>`` ("telegram:5531", "messenger:
  7102…", "slack:U0G9QF9C6"), so that two platforms' numeric ids never meet in one
  conversation; Twilio's ``From`` ("whatsapp:+31…", "+31…") is one already. A REST or widget
  id is signed (core/identity.py) and never has this form.
- **Metadata** every channel sends Rasa: ``message_id`` (the platform's own id of the
  delivery, so a retried webhook is handled once, see bot/launcher.py), ``locale`` (the
  platform's language hint, read by actions/language.py like the widget's) and ``contact``
  (who wrote, shown on the ticket).
- **Options** on a platform without buttons are numbered lines; a typed "2" answers the
  second (bot/launcher.py maps it to the button's payload, on every channel).
- **A failed send raises** ``SendFailed``: Rasa then does not save the turn, the platform's
  retry or the delivery worker's next try says it again. Stock outputs log and carry on.

Runs in the Rasa environment (Python 3.10).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from rasa.shared.exceptions import RasaException

logger = logging.getLogger(__name__)

#: How long a platform's send API may take before the send counts as failed.
SEND_TIMEOUT_SECONDS = 15.0


class SendFailed(RasaException):
    """The platform refused a message or did not answer; it was not said."""


def conversation_id(platform: str, platform_id: object) -> str:
    """Our conversation id for the platform's chat, user or number."""
    return f"{platform}:{platform_id}"


def platform_id(platform: str, conversation: str) -> str:
    """The platform's own id inside our conversation id (unchanged when it has no prefix)."""
    prefix = f"{platform}:"
    return conversation[len(prefix) :] if conversation.startswith(prefix) else conversation


def metadata(
    *, message_id: str, contact: str, locale: str | None = None, **extra: Any
) -> dict[str, Any]:
    """The metadata of a customer's message on a messaging app."""
    found: dict[str, Any] = {"message_id": message_id, "contact": contact[:200], **extra}
    if locale:
        found["locale"] = locale
    return found


def numbered_options(text: str, buttons: list[dict[str, Any]]) -> str:
    """A message with its buttons as numbered lines, for a platform without buttons."""
    lines = [f"{number}. {button.get('title', '')}" for number, button in enumerate(buttons, 1)]
    return "\n".join([text, "", *lines]) if lines else text


async def send_request(
    method: str,
    url: str,
    *,
    what: str,
    **kwargs: Any,
) -> dict[str, Any]:
    """One call to a platform's API; its JSON answer, or ``SendFailed`` naming ``what``
    failed (status and the platform's words) when it answers an error or not in time."""
    timeout = aiohttp.ClientTimeout(total=SEND_TIMEOUT_SECONDS)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.request(method, url, **kwargs) as response,
        ):
            body = await response.text()
            if response.status >= 400:
                raise SendFailed(f"{what}: HTTP {response.status}: {body[:300]}")
            try:
                answer = await response.json(content_type=None)
            except ValueError:
                answer = {}
    # asyncio's own: on Python 3.10 (the Rasa server's) it is not the builtin TimeoutError
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:  # noqa: UP041
        raise SendFailed(f"{what}: {error!r}") from error
    return answer if isinstance(answer, dict) else {}
